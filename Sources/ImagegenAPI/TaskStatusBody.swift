import Foundation
import ImagegenStore

/// A task as its owner sees it: the status answer, a task list entry and an event's data.
struct TaskStatusBody: Encodable {
    struct ErrorBody: Encodable {
        let code: String
        let message: String
    }

    let task_id: String
    let status: String
    let model: String
    let size: String
    let quality: String
    let n: Int
    let prompt: String
    let attempts: Int
    let max_attempts: Int
    let created_at: String
    let started_at: String?
    let finished_at: String?
    let next_attempt_at: String?
    let error: ErrorBody?
    /// Present while a cancel waits for the running attempt to end.
    let cancel_requested: Bool?
    let cost_usd: String?
    let cost_micro_usd: Int64?
    /// Where each image can be fetched by itself, once the task succeeded.
    let image_urls: [String]?
    /// Present once retention deleted the images.
    let images_purged_at: String?

    /// The images themselves go only into the status answer, streamed (`TaskStatusBody+inlineImages.swift`).
    init(_ snapshot: TaskSnapshot) {
        let id = snapshot.taskID.uuidString.lowercased()
        task_id = id
        status = snapshot.status.rawValue
        model = snapshot.model
        size = snapshot.size
        quality = snapshot.quality
        n = snapshot.n
        prompt = snapshot.prompt
        attempts = snapshot.attempts
        max_attempts = snapshot.maxAttempts
        created_at = snapshot.createdAt
        started_at = snapshot.startedAt
        finished_at = snapshot.finishedAt
        next_attempt_at = snapshot.nextAttemptAt
        error = snapshot.error.map { ErrorBody(code: $0.code, message: $0.message) }
        cancel_requested = snapshot.cancelRequested && !snapshot.status.isTerminal ? true : nil
        cost_usd = snapshot.cost?.usd
        cost_micro_usd = snapshot.cost?.value
        image_urls = Self.hasImages(snapshot) ? (0..<snapshot.imageCount).map { Self.imageURL(taskID: id, position: $0) } : nil
        images_purged_at = snapshot.imagesPurgedAt
    }

    static func hasImages(_ snapshot: TaskSnapshot) -> Bool {
        snapshot.status == .succeeded && snapshot.imagesPurgedAt == nil
    }

    static func imageURL(taskID: String, position: Int) -> String {
        "/images/tasks/\(taskID)/images/\(position)"
    }
}
