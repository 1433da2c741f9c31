import Foundation
import ImagegenStore

/// The JSON a client polls: `GET /images/tasks/<id>/status`.
struct TaskStatusBody: Encodable {
    struct ErrorBody: Encodable {
        let code: String
        let message: String
    }

    struct ImageBody: Encodable {
        let b64_json: String
        let revised_prompt: String?
        let media_type: String
    }

    let task_id: String
    let status: String
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
    let images: [ImageBody]?

    init(_ snapshot: TaskSnapshot) {
        task_id = snapshot.taskID.uuidString.lowercased()
        status = snapshot.status.rawValue
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
        images = snapshot.status == .succeeded
            ? snapshot.images.map {
                ImageBody(b64_json: Data($0.bytes).base64EncodedString(), revised_prompt: $0.revisedPrompt, media_type: $0.mediaType)
            }
            : nil
    }
}
