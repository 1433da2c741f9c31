import Foundation
import ImagegenCore
import ImagegenQueue
import ImagegenStore

extension Submission {
    /// The task the submission created or pointed back to.
    var taskID: UUID {
        switch self {
        case .created(let id), .replayed(let id, _), .keyReused(let id): id
        }
    }
}

extension TaskQueue {
    /// Ready, delayed and in-flight counts, for compact assertions.
    func depth() async throws -> (ready: Int, delayed: Int, inflight: Int) {
        let stats = try await stats()
        return (stats.ready, stats.delayed, stats.inflight)
    }
}

extension TaskStore {
    /// Inserts a queued dall-e-3 task without enqueuing it; no test worker serves the default queue.
    func createTask(userID: UUID, prompt: String = "p", maxAttempts: Int = 3, queue: String = "unserved") async throws -> UUID {
        let request = ImageRequest(prompt: prompt, model: "dall-e-3", size: "1024x1024", quality: "standard", style: nil, n: 1, endUser: nil)
        return try await create(
            userID: userID, request: request, unitPrice: MicroDollars(40_000), maxAttempts: maxAttempts, queue: queue
        ).taskID
    }
}
