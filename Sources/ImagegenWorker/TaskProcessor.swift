import Foundation
import ImagegenCore
import ImagegenProvider
import ImagegenQueue
import ImagegenStore
import Logging

/// Runs one attempt of one leased task: start it in PostgreSQL, call the provider,
/// then store the outcome and tell the queue.
public struct TaskProcessor: Sendable {
    let attempts: AttemptStore
    let queue: TaskQueue
    let provider: any ImageProvider
    let logger: Logger
    /// How long to keep trying to record an attempt's outcome while PostgreSQL is unreachable.
    let persistFor: Duration

    public init(
        attempts: AttemptStore, queue: TaskQueue, provider: any ImageProvider, persistFor: Duration = .seconds(60), logger: Logger
    ) {
        self.attempts = attempts
        self.queue = queue
        self.provider = provider
        self.persistFor = persistFor
        self.logger = logger
    }

    public func process(_ leased: LeasedTask) async {
        var logger = self.logger
        logger[metadataKey: "task_id"] = "\(leased.entry.taskID.uuidString.lowercased())"
        do {
            if Task.isCancelled {
                try await queue.handBack(taskID: leased.entry.taskID)
                logger.info("worker stopping; task handed back before it started")
                return
            }
            guard let attempt = try await attempts.beginAttempt(taskID: leased.entry.taskID) else {
                logger.info("task is not runnable any more; dropping it from the queue")
                try await queue.acknowledge(taskID: leased.entry.taskID)
                return
            }
            logger[metadataKey: "attempt"] = "\(attempt.attempt)"
            WorkerMetrics.spendReserved(attempt.price.reservation(for: attempt.request))
            logger.debug("calling the provider", metadata: ["model": "\(attempt.request.model)"])
            let outcome: Result<Generation, ProviderFailure>
            let started = ContinuousClock.now
            do {
                outcome = .success(try await provider.generate(attempt.request, acceptsResponseFormat: attempt.acceptsResponseFormat))
            } catch {
                outcome = .failure(error)
            }
            WorkerMetrics.providerCall(outcome: outcome.failureCode, duration: .now - started)
            switch outcome {
            case .success(let generation): try await succeed(attempt, generation: generation, logger: logger)
            case .failure(.abandoned): try await handBack(attempt, logger: logger)
            case .failure(let failure): try await handle(failure, of: attempt, entry: leased.entry, logger: logger)
            }
        } catch {
            // Storage is unreachable: the lease runs out and the task is redelivered, so it is not lost.
            logger.error("cannot record the task's progress: \(error)")
        }
    }

    private func succeed(_ attempt: TaskAttempt, generation: Generation, logger: Logger) async throws {
        let stored = generation.images.map { StoredImage(mediaType: $0.mediaType, bytes: $0.bytes, revisedPrompt: $0.revisedPrompt) }
        let cost = attempt.price.charge(images: stored.count, usage: generation.usage)
        switch try await persist({ try await attempts.complete(attempt, images: stored, usage: generation.usage) }, logger: logger) {
        case .recorded:
            WorkerMetrics.taskFinished(.succeeded)
            WorkerMetrics.spendSettled(cost)
            logger.info("task succeeded", metadata: ["images": "\(stored.count)", "cost_usd": "\(cost.usd)"])
        case .canceled:
            WorkerMetrics.taskFinished(.canceled)
            WorkerMetrics.spendSettled(cost)
            logger.notice("task canceled by its owner during the attempt; images discarded, provider cost recorded")
        case .superseded:
            logger.warning("a newer attempt owns this task; result discarded")
        }
        try await queue.acknowledge(taskID: attempt.taskID)
    }

    private func handle(_ failure: ProviderFailure, of attempt: TaskAttempt, entry: QueueEntry, logger: Logger) async throws {
        let error = TaskError(code: failure.code, message: failure.message)
        guard failure.isRetryable, attempt.attempt < attempt.maxAttempts else {
            let outcome = try await persist(
                { try await attempts.fail(attempt, error: error, providerMayHaveBilled: failure.providerMayHaveBilled) }, logger: logger
            )
            if outcome != .superseded {
                WorkerMetrics.taskFinished(outcome == .canceled ? .canceled : .failed, code: failure.code)
                logger.warning("task failed", metadata: ["code": "\(failure.code)", "reason": "\(failure.message)"])
                try await queue.acknowledge(taskID: attempt.taskID)
            }
            return
        }
        let delay = entry.backoff.delay(afterAttempt: attempt.attempt, retryAfterMilliseconds: failure.retryAfterMilliseconds)
        switch try await persist({ try await attempts.scheduleRetry(
            attempt, delayMilliseconds: delay, error: error, providerMayHaveBilled: failure.providerMayHaveBilled
        ) }, logger: logger) {
        case .recorded:
            var next = entry
            next.attempt = attempt.attempt
            next.runAtMilliseconds = Int64(Date().timeIntervalSince1970 * 1000) + delay
            try await queue.retry(next, delayMilliseconds: delay)
            WorkerMetrics.retryScheduled(reason: failure.code)
            logger.notice("attempt failed; retrying", metadata: ["code": "\(failure.code)", "delay_ms": "\(delay)"])
        case .canceled:
            WorkerMetrics.taskFinished(.canceled, code: failure.code)
            logger.notice("attempt failed and the owner canceled the task")
            try await queue.acknowledge(taskID: attempt.taskID)
        case .superseded:
            logger.warning("a newer attempt owns this task; not retrying")
        }
    }

    private func handBack(_ attempt: TaskAttempt, logger: Logger) async throws {
        switch try await persist({ try await attempts.handBack(attempt) }, logger: logger) {
        case .recorded:
            try await queue.handBack(taskID: attempt.taskID)
            logger.notice("worker stopping; unfinished attempt handed back to the queue")
        case .canceled:
            try await queue.acknowledge(taskID: attempt.taskID)
            logger.notice("worker stopping; the owner had canceled the task")
        case .superseded:
            logger.warning("a newer attempt owns this task; nothing to hand back")
        }
    }

    /// Records an outcome, retrying while PostgreSQL is briefly away (a restart, a failover):
    /// the heartbeat keeps the lease meanwhile, so a result the provider was paid for is kept
    /// instead of being lost with a lapsed lease and paid for again.
    private func persist(
        _ record: @Sendable () async throws -> AttemptOutcome, logger: Logger
    ) async throws -> AttemptOutcome {
        let deadline = ContinuousClock.now + persistFor
        var pauseMilliseconds = 100
        while true {
            do {
                return try await record()
            } catch where Database.isUnavailable(error) && ContinuousClock.now + .milliseconds(pauseMilliseconds) < deadline {
                logger.warning("PostgreSQL is unreachable; will record the attempt's outcome when it is back: \(error)")
                // Not cancellable: a worker that is shutting down still keeps what it was paid for.
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(pauseMilliseconds)) { continuation.resume() }
                }
                pauseMilliseconds = min(pauseMilliseconds * 2, 2_000)
            }
        }
    }
}

extension Result<Generation, ProviderFailure> {
    /// The failure's code, or "success": the provider-call histogram's outcome label.
    fileprivate var failureCode: String {
        switch self {
        case .success: "success"
        case .failure(let failure): failure.code
        }
    }
}
