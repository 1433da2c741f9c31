import Foundation
import ImagegenStore

extension Components.Schemas.Task {
    /// A task as its owner sees it: the status answer, a task list entry and an event's data.
    /// The images themselves go only into the status answer, streamed (`InlineImagesBody`).
    init(_ snapshot: TaskSnapshot) {
        let id = snapshot.taskID.uuidString.lowercased()
        self.init(
            taskId: id,
            status: Components.Schemas.TaskStatus(rawValue: snapshot.status.rawValue)!,
            model: snapshot.model,
            size: snapshot.size,
            quality: snapshot.quality,
            n: snapshot.n,
            prompt: snapshot.prompt,
            attempts: snapshot.attempts,
            maxAttempts: snapshot.maxAttempts,
            createdAt: Self.date(snapshot.createdAt),
            startedAt: snapshot.startedAt.map(Self.date),
            finishedAt: snapshot.finishedAt.map(Self.date),
            nextAttemptAt: snapshot.nextAttemptAt.map(Self.date),
            error: snapshot.error.map { .init(code: $0.code, message: $0.message) },
            // Present only while a cancel waits for the running attempt to end.
            cancelRequested: snapshot.cancelRequested && !snapshot.status.isTerminal ? true : nil,
            costUsd: snapshot.cost?.usd,
            costMicroUsd: snapshot.cost.map { Int($0.value) },
            imageUrls: Self.hasImages(snapshot) ? (0..<snapshot.imageCount).map { Self.imageURL(taskID: id, position: $0) } : nil,
            imagesPurgedAt: snapshot.imagesPurgedAt.map(Self.date),
            provider: snapshot.provider,
            progress: snapshot.status == .running ? snapshot.progress : nil,
            partialImages: snapshot.partialImages > 0 ? snapshot.partialImages : nil
        )
    }

    /// Whether the task's images can be fetched: it succeeded and retention has not deleted them.
    static func hasImages(_ snapshot: TaskSnapshot) -> Bool {
        snapshot.status == .succeeded && snapshot.imagesPurgedAt == nil
    }

    static func imageURL(taskID: String, position: Int) -> String {
        "/images/tasks/\(taskID)/images/\(position)"
    }

    /// A timestamp as the store renders it (RFC 3339 UTC with milliseconds); the API writes
    /// it back the same way (`APIHandlers.configuration`).
    static func date(_ text: String) -> Date {
        guard let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) else {
            preconditionFailure("the store rendered a timestamp that is not RFC 3339: \(text)")
        }
        return date
    }
}
