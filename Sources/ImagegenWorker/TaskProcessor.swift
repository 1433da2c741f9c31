import Foundation
import ImagegenCore
import ImagegenProvider
import ImagegenProviderGate
import ImagegenQueue
import ImagegenStore
import Logging

/// Runs one attempt of one leased task: pick its route, wait for that provider's gate,
/// start the attempt in PostgreSQL, call the provider, then store the outcome and tell the
/// queue and the gate.
///
/// A worker that is stopping starts no provider call: a task still waiting at the gate or
/// not yet started goes back to the queue at once, without using an attempt or holding a
/// reservation. A call already made runs to its end (the provider has been asked, and
/// asking again would pay twice), and its outcome is recorded.
public struct TaskProcessor: Sendable {
    /// For the reads and progress notes that are not batched.
    let store: AttemptStore
    let attempts: AttemptBatches
    let queue: TaskQueue
    let routes: ProviderRoutes
    let logger: Logger
    /// How long to keep trying to record an attempt's outcome while PostgreSQL is unreachable.
    let persistFor: Duration

    public init(
        attempts: AttemptStore, queue: TaskQueue, routes: ProviderRoutes, persistFor: Duration = .seconds(60), logger: Logger
    ) {
        self.store = attempts
        self.attempts = AttemptBatches(store: attempts)
        self.queue = queue
        self.routes = routes
        self.persistFor = persistFor
        self.logger = logger
    }

    /// - Parameters:
    ///   - stop: the worker's stop signal; once it fires no new call starts.
    ///   - leaseLost: whether another worker has taken the task over (this worker's lease lapsed).
    ///   - callEnded: called once the provider has answered or failed, before the outcome is recorded.
    func process(
        _ leased: LeasedTask, stop: StopSignal, leaseLost: @Sendable (UUID) -> Bool, callEnded: @Sendable () -> Void
    ) async {
        var logger = self.logger
        let taskID = leased.entry.taskID
        logger[metadataKey: "task_id"] = "\(taskID.uuidString.lowercased())"
        do {
            if Task.isCancelled || stop.isStopped {
                try await queue.handBack(taskID: taskID)
                logger.info("worker stopping; task handed back before it started")
                return
            }
            let providers = try await providers(of: leased.entry)
            let candidates = routes.candidates(providers)
            guard !candidates.isEmpty else {
                // Another worker may serve it (a rollout adding a provider); the task's deadline ends the wait.
                logger.error("no provider of the task's routes is configured on this worker; trying again later", metadata: [
                    "providers": "\(providers.map { $0 ?? "default" }.joined(separator: ","))",
                ])
                try await queue.retry(leased.entry, delayMilliseconds: Self.unservedRetryMilliseconds)
                return
            }
            // Waiting happens before the attempt starts, so it holds no reservation and uses up no attempt.
            let chosen: (position: Int, route: ProviderRoute, admission: Admission)
            do {
                let images = leased.entry.imagesRequested
                chosen = try await stop.untilStopped { try await Self.admit(images: images, candidates: candidates) }
            } catch is CancellationError {
                try await queue.handBack(taskID: taskID)
                logger.info("worker stopping; task handed back while it waited for the provider")
                return
            }
            let (route, admission) = (chosen.route, chosen.admission)
            if stop.isStopped || leaseLost(taskID) {
                await report(.abandoned, of: admission, at: route, logger: logger)
                if leaseLost(taskID) {
                    logger.warning("lease lost before the attempt started; another worker runs the task")
                } else {
                    try await queue.handBack(taskID: taskID)
                    logger.info("worker stopping; task handed back before its attempt started")
                }
                return
            }
            // A task with more than one route says where this attempt runs; one with a single route is already there.
            let start = AttemptStart(taskID: taskID, route: providers.count > 1 ? chosen.position : nil)
            guard let attempt = try await attempts.begin(start) else {
                await report(.abandoned, of: admission, at: route, logger: logger)
                logger.info("task is not runnable any more; dropping it from the queue")
                try await queue.acknowledge(taskID: leased.entry.taskID)
                return
            }
            logger[metadataKey: "attempt"] = "\(attempt.attempt)"
            WorkerMetrics.spendReserved(attempt.price.reservation(for: attempt.request))
            if stop.isStopped || leaseLost(taskID) {
                // Stopped or taken over between the gate and the call: nothing was asked of the provider yet.
                await report(.abandoned, of: admission, at: route, logger: logger)
                try await handBack(attempt, providerCalled: false, logger: logger)
                return
            }
            var call = attempt.request
            call.model = attempt.providerModel ?? call.model
            logger.debug("calling the provider", metadata: [
                "provider": "\(route.name)", "model": "\(call.model)", "key": "\(admission.keyID)",
            ])
            let outcome: Result<Generation, ProviderFailure>
            let started = ContinuousClock.now
            do {
                let progressLogger = logger
                outcome = .success(try await route.provider.generate(
                    call, acceptsResponseFormat: attempt.acceptsResponseFormat, keyID: admission.keyID
                ) { progress in
                    await record(progress, of: attempt, logger: progressLogger)
                })
            } catch {
                outcome = .failure(error)
            }
            WorkerMetrics.providerCall(outcome: outcome.failureCode, duration: .now - started)
            callEnded()
            let poolHasOtherKeys = route.provider.keyIDs.count > 1
            await report(outcome.callOutcome(poolHasOtherKeys: poolHasOtherKeys), of: admission, at: route, logger: logger)
            switch outcome {
            case .success(let generation): try await succeed(attempt, generation: generation, logger: logger)
            case .failure(.abandoned): try await handBack(attempt, providerCalled: true, logger: logger)
            case .failure(let failure):
                try await handle(failure, of: attempt, entry: leased.entry, poolHasOtherKeys: poolHasOtherKeys, logger: logger)
            }
        } catch {
            // Storage is unreachable: the lease runs out and the task is redelivered, so it is not lost.
            logger.error("cannot record the task's progress: \(error)")
        }
    }

    private func succeed(_ attempt: TaskAttempt, generation: Generation, logger: Logger) async throws {
        let stored = generation.images.map { StoredImage(mediaType: $0.mediaType, bytes: $0.bytes, revisedPrompt: $0.revisedPrompt) }
        let cost = attempt.price.charge(images: stored.count, usage: generation.usage)
        let finished = FinishedAttempt(attempt, .succeeded(cost: cost, images: stored.count), images: stored, usage: generation.usage)
        switch try await persist(finished, logger: logger) {
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

    private func handle(
        _ failure: ProviderFailure, of attempt: TaskAttempt, entry: QueueEntry, poolHasOtherKeys: Bool, logger: Logger
    ) async throws {
        let error = TaskError(code: failure.code, message: failure.message)
        // A refused key is no fault of the task: the gate holds it back until a key can take it.
        let keyRefused = failure.refusesKey || (failure.rejectsKey && poolHasOtherKeys)
        guard failure.isRetryable || keyRefused, keyRefused || attempt.attempt < attempt.maxAttempts else {
            let outcome = try await persist(
                FinishedAttempt(attempt, .failed(error, providerMayHaveBilled: failure.providerMayHaveBilled)), logger: logger
            )
            if outcome != .superseded {
                WorkerMetrics.taskFinished(outcome == .canceled ? .canceled : .failed, code: failure.code)
                logger.warning("task failed", metadata: ["code": "\(failure.code)", "reason": "\(failure.message)"])
                try await queue.acknowledge(taskID: attempt.taskID)
            }
            return
        }
        let delay = keyRefused ? 0 : entry.backoff.delay(afterAttempt: attempt.attempt, retryAfterMilliseconds: failure.retryAfterMilliseconds)
        let retry = AttemptEnd.retry(
            delayMilliseconds: delay, error: error, providerMayHaveBilled: failure.providerMayHaveBilled, countsAsAttempt: !keyRefused
        )
        switch try await persist(FinishedAttempt(attempt, retry), logger: logger) {
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

    /// The providers of the entry's task's routes, its own first: carried by the entry, else read
    /// from the task (an entry made from its row alone); none at all (a task from before
    /// routes, or gone) means the default provider.
    private func providers(of entry: QueueEntry) async throws -> [String?] {
        if let carried = entry.providers, !carried.isEmpty { return carried }
        let stored = try await store.providers(of: entry.taskID) ?? []
        return stored.isEmpty ? [nil] : stored
    }

    /// Keeps what the provider says of a running call for the task's watchers. Progress only
    /// informs: a note that cannot be kept never holds the call up.
    private func record(_ progress: ProviderProgress, of attempt: TaskAttempt, logger: Logger) async {
        do {
            switch progress {
            case .status(let state):
                try await store.recordProgress(attempt, state)
            case .partialImage(let index, let image):
                try await store.recordPartialImage(attempt, index: index, mediaType: image.mediaType, bytes: image.bytes)
            }
        } catch {
            logger.warning("cannot record the provider's progress: \(error)")
        }
    }

    /// How long a task none of whose providers this worker has waits before it is offered again.
    static let unservedRetryMilliseconds: Int64 = 30_000

    /// Waits until one of the task's routes admits the call (`RouteChoice`), and returns it
    /// with its position in the task's routes. A task with one route waits at its gate at once.
    private static func admit(
        images: Int, candidates: [(position: Int, route: ProviderRoute)]
    ) async throws -> (position: Int, route: ProviderRoute, admission: Admission) {
        if candidates.count > 1 {
            for (index, candidate) in candidates.enumerated() {
                let decision = try await candidate.route.gate.decide(images: images)
                switch RouteChoice.step(after: decision, isLast: index == candidates.count - 1) {
                case .take:
                    guard case .admitted(let admission) = decision else { continue }
                    return (candidate.position, candidate.route, admission)
                case .waitHere:
                    return (candidate.position, candidate.route, try await candidate.route.gate.admit(images: images))
                case .next:
                    continue
                case .waitAtFirst:
                    break
                }
            }
        }
        let own = candidates[0]
        return (own.position, own.route, try await own.route.gate.admit(images: images))
    }

    private func handBack(_ attempt: TaskAttempt, providerCalled: Bool, logger: Logger) async throws {
        switch try await persist(FinishedAttempt(attempt, .handedBack(providerMayHaveBilled: providerCalled)), logger: logger) {
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

    /// Tells the route's gate how the call went. A gate that cannot be told only paces less
    /// well, so the task's own outcome is recorded regardless.
    private func report(_ outcome: CallOutcome, of admission: Admission, at route: ProviderRoute, logger: Logger) async {
        do {
            try await route.gate.report(outcome, of: admission)
        } catch {
            logger.warning("cannot tell the provider gate how the call went: \(error)")
        }
    }

    /// Records an outcome, retrying while PostgreSQL is briefly away (a restart, a failover) or
    /// gives up on a try (serialization failure, deadlock, lock timeout): the heartbeat keeps
    /// the lease meanwhile, so a result the provider was paid for is kept instead of being
    /// lost with a lapsed lease and paid for again.
    private func persist(_ finished: FinishedAttempt, logger: Logger) async throws -> AttemptOutcome {
        let deadline = ContinuousClock.now + persistFor
        var pauseMilliseconds = 100
        while true {
            do {
                return try await attempts.finish(finished)
            } catch where Database.isTransient(error) && ContinuousClock.now + .milliseconds(pauseMilliseconds) < deadline {
                logger.warning("cannot record the attempt's outcome yet; trying again: \(error)")
                // Not cancellable: a worker that is shutting down still keeps what it was paid for.
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(pauseMilliseconds)) { continuation.resume() }
                }
                pauseMilliseconds = min(pauseMilliseconds * 2, 2_000)
            }
        }
    }
}

extension ProviderFailure {
    /// The provider turned the key away (rate limit or out of credit), not the request.
    fileprivate var refusesKey: Bool {
        code == "rate_limited" || code == "provider_quota_exceeded"
    }

    /// The provider refused the key itself (401, 403), not the request.
    fileprivate var rejectsKey: Bool {
        code == "provider_auth_failed" || code == "provider_forbidden"
    }
}

extension Result<Generation, ProviderFailure> {
    /// What the call says about the provider and the key it used.
    fileprivate func callOutcome(poolHasOtherKeys: Bool) -> CallOutcome {
        switch self {
        case .success: return .answered
        case .failure(let failure):
            if failure.rejectsKey { return poolHasOtherKeys ? .keyRejected : .answered }
            switch failure.code {
            case "rate_limited": return .rateLimited(retryAfter: failure.retryAfterMilliseconds.map { .milliseconds($0) })
            case "provider_quota_exceeded": return .outOfQuota
            case ProviderFailure.abandoned.code: return .abandoned
            case "provider_unavailable", "provider_timeout", "provider_unreachable", "provider_connection_error",
                 "malformed_response", "invalid_image":
                return .failed
            default: return .answered
            }
        }
    }

    /// The failure's code, or "success": the provider-call histogram's outcome label.
    fileprivate var failureCode: String {
        switch self {
        case .success: "success"
        case .failure(let failure): failure.code
        }
    }
}
