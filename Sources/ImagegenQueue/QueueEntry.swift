import Foundation
import ImagegenCore

/// What Redis holds for one task: its id and the retry metadata the worker needs
/// to schedule the next attempt without asking PostgreSQL.
public struct QueueEntry: Sendable, Equatable, Codable {
    public var taskID: UUID
    /// Attempts made so far.
    public var attempt: Int
    public var backoff: BackoffPolicy
    /// When the task is due, in Unix milliseconds.
    public var runAtMilliseconds: Int64
    /// How many images the task asks for, so the worker can wait for the provider's rate
    /// limit before it starts an attempt. Entries enqueued before this existed lack it.
    var images: Int?
    /// The providers of the task's routes, the one it runs on first; nil in a list for the
    /// worker's default provider. The worker picks a route before the gate, so before it
    /// reads the task. Entries made from the task's row alone (the reconciler's, a retry's)
    /// lack them, and the worker reads them from the task.
    public var providers: [String?]?

    public init(taskID: UUID, attempt: Int, backoff: BackoffPolicy, runAtMilliseconds: Int64, images: Int, providers: [String?]? = nil) {
        self.taskID = taskID
        self.attempt = attempt
        self.backoff = backoff
        self.runAtMilliseconds = runAtMilliseconds
        self.images = images
        self.providers = providers
    }

    /// The images to wait for at the provider's rate limit; one when the entry predates the count.
    public var imagesRequested: Int { images ?? 1 }

    func encoded() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> QueueEntry {
        try JSONDecoder().decode(QueueEntry.self, from: Data(text.utf8))
    }
}
