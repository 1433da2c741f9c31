import Foundation
import ImagegenCore
import ImagegenProvider
import ImagegenQueue
import ImagegenStore
import Logging

/// Runs one attempt of one leased task: start it in PostgreSQL, call the provider,
/// then store the outcome and tell the queue.
public struct TaskProcessor: Sendable {
    let tasks: TaskStore
    let queue: TaskQueue
    let provider: any ImageProvider
    let logger: Logger

    public init(tasks: TaskStore, queue: TaskQueue, provider: any ImageProvider, logger: Logger) {
        self.tasks = tasks
        self.queue = queue
        self.provider = provider
        self.logger = logger
    }

    public func process(_ leased: LeasedTask) async {
        var logger = self.logger
        logger[metadataKey: "task_id"] = "\(leased.entry.taskID.uuidString.lowercased())"
        do {
            guard let attempt = try await tasks.beginAttempt(taskID: leased.entry.taskID) else {
                logger.info("task is not runnable any more; dropping it from the queue")
                try await queue.acknowledge(taskID: leased.entry.taskID)
                return
            }
            logger[metadataKey: "attempt"] = "\(attempt.attempt)"
            logger.debug("calling the provider", metadata: ["model": "\(attempt.request.model)"])
            let outcome: Result<[GeneratedImage], ProviderFailure>
            do {
                outcome = .success(try await provider.generate(attempt.request, acceptsResponseFormat: attempt.acceptsResponseFormat))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let images): try await succeed(attempt, images: images, logger: logger)
            case .failure(let failure): try await handle(failure, of: attempt, entry: leased.entry, logger: logger)
            }
        } catch {
            // Storage is unreachable: the lease stays, so the task is not lost.
            logger.error("cannot record the task's progress: \(error)")
        }
    }

    private func succeed(_ attempt: TaskAttempt, images: [GeneratedImage], logger: Logger) async throws {
        let cost = attempt.unitPrice * images.count
        let stored = images.map { StoredImage(mediaType: $0.mediaType, bytes: $0.bytes, revisedPrompt: $0.revisedPrompt) }
        if try await tasks.complete(attempt, images: stored, cost: cost) {
            logger.info("task succeeded", metadata: ["images": "\(images.count)", "cost_usd": "\(cost.usd)"])
        } else {
            logger.warning("a newer attempt owns this task; result discarded")
        }
        try await queue.acknowledge(taskID: attempt.taskID)
    }

    private func handle(_ failure: ProviderFailure, of attempt: TaskAttempt, entry: QueueEntry, logger: Logger) async throws {
        let error = TaskError(code: failure.code, message: failure.message)
        guard failure.isRetryable, attempt.attempt < attempt.maxAttempts else {
            _ = try await tasks.fail(attempt, error: error)
            logger.warning("task failed", metadata: ["code": "\(failure.code)", "reason": "\(failure.message)"])
            try await queue.acknowledge(taskID: attempt.taskID)
            return
        }
        let delay = entry.backoff.delay(afterAttempt: attempt.attempt, retryAfterMilliseconds: failure.retryAfterMilliseconds)
        guard try await tasks.scheduleRetry(attempt, delayMilliseconds: delay, error: error) else {
            logger.warning("a newer attempt owns this task; not retrying")
            return
        }
        var next = entry
        next.attempt = attempt.attempt
        next.runAtMilliseconds = Int64(Date().timeIntervalSince1970 * 1000) + delay
        try await queue.retry(next, delayMilliseconds: delay)
        logger.notice("attempt failed; retrying", metadata: ["code": "\(failure.code)", "delay_ms": "\(delay)"])
    }
}
