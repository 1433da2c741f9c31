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

    public init(taskID: UUID, attempt: Int, backoff: BackoffPolicy, runAtMilliseconds: Int64) {
        self.taskID = taskID
        self.attempt = attempt
        self.backoff = backoff
        self.runAtMilliseconds = runAtMilliseconds
    }

    func encoded() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> QueueEntry {
        try JSONDecoder().decode(QueueEntry.self, from: Data(text.utf8))
    }
}
