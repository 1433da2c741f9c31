import Foundation
import ImagegenCore
import PostgresClient

/// The worker's side of a task in PostgreSQL: start an attempt, keep it alive, and
/// record how it ended. Every change after the start is fenced by the attempt number,
/// so a worker that lost its lease cannot overwrite a newer attempt or charge twice.
public struct AttemptStore: Sendable {
    let database: Database
    let spend: SpendPolicy
    /// How old a running task's heartbeat must be before another worker may take it over:
    /// the workers' lease. A younger one means its worker is alive (its Redis lease may have
    /// lapsed while Redis stalled), and a second attempt would pay the provider twice.
    let takeoverAfter: Duration
    /// The clock that decides which day and month a reservation counts against.
    let now: @Sendable () -> Date

    public init(
        database: Database, spend: SpendPolicy = SpendPolicy(), takeoverAfter: Duration, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.database = database
        self.spend = spend
        self.takeoverAfter = takeoverAfter
        self.now = now
    }

    /// Starts the next attempt, or returns nil when the task is in no state to run.
    ///
    /// The attempt's price and images are reserved against the user's limits in the same
    /// transaction; a task that would pass a limit fails as `spend_limit_exceeded` or
    /// `image_limit_exceeded` and is never sent to the provider. A task still marked `running`
    /// is taken over only when its heartbeat is older than `takeoverAfter`: its worker stopped
    /// heartbeating, so the earlier attempt's reservation becomes unsettled (it may have been
    /// billed). A running task with a fresh heartbeat returns nil and is left to its worker. If
    /// a takeover would be its last attempt the task fails as `worker_lost` rather than running
    /// forever; if its owner asked to cancel, it is canceled.
    public func beginAttempt(taskID: UUID) async throws -> TaskAttempt? {
        let periods = spend.periods(at: now())
        let policy = spend
        let takeoverMilliseconds = takeoverAfter.milliseconds
        return try await database.transaction { connection in
            let id = PostgresValue.text(taskID.uuidString)
            guard let current = try connection.query(
                """
                SELECT t.status, t.attempts, t.max_attempts, t.cancel_requested_at IS NOT NULL AS cancel_requested,
                       coalesce(t.heartbeat_at > now() - $2::bigint * interval '1 millisecond', false) AS heartbeat_fresh,
                       coalesce(t.deadline_at < now(), false) AS overdue,
                       t.user_id, t.prompt, t.model, t.size, t.quality, t.style, t.n, t.end_user, t.unit_price_micro_usd,
                       coalesce(m.accepts_response_format, true) AS accepts_response_format,
                       r.output_micro_usd_per_million IS NOT NULL AS billed_by_tokens, r.*
                FROM tasks t
                LEFT JOIN models m ON m.name = t.model
                LEFT JOIN LATERAL (
                    SELECT \(TokenRates.columns) FROM token_prices p
                    WHERE p.model = t.model AND p.effective_from <= t.created_at
                    ORDER BY p.effective_from DESC LIMIT 1
                ) r ON true
                WHERE t.id = $1 FOR UPDATE OF t
                """,
                [id, .int(takeoverMilliseconds)]
            ).first, let status = TaskStatus(rawValue: try current.string("status")), !status.isTerminal else { return nil }
            let attempts = Int(try current.int("attempts"))
            if status == .running, try current.bool("heartbeat_fresh") { return nil }
            if status == .running {
                try SpendLedger.resolve(taskID: taskID, attempt: attempts, as: .unsettled, on: connection)
            }
            if try current.bool("cancel_requested") {
                try Self.end(taskID, as: .canceled, error: nil, on: connection)
                return nil
            }
            if try current.bool("overdue") {
                try Self.end(taskID, as: .failed, error: TaskError.expired, on: connection)
                return nil
            }
            if status == .running, attempts >= Int(try current.int("max_attempts")) {
                let error = TaskError(code: "worker_lost", message: "the worker running the last attempt stopped without finishing it")
                try Self.end(taskID, as: .failed, error: error, on: connection)
                return nil
            }
            let request = ImageRequest(
                prompt: try current.string("prompt"), model: try current.string("model"), size: try current.string("size"),
                quality: try current.string("quality"), style: try current.optionalString("style"), n: Int(try current.int("n")),
                endUser: try current.optionalString("end_user")
            )
            let price = TaskPrice(
                unit: MicroDollars(try current.int("unit_price_micro_usd")),
                tokenRates: try current.bool("billed_by_tokens") ? try TokenRates(current) : nil
            )
            let reservation = price.reservation(for: request)
            let userID = UUID(uuidString: try current.string("user_id"))!
            do {
                try SpendLedger.reserve(
                    taskID: taskID, attempt: attempts + 1, userID: userID, amount: reservation, images: request.n, periods: periods,
                    policy: policy, on: connection
                )
            } catch let exceeded as SpendLedger.LimitExceeded {
                let message = exceeded.limit.refusal(
                    cost: reservation, images: request.n, cap: exceeded.cap, committed: exceeded.committed, periods: periods
                )
                try Self.end(taskID, as: .failed, error: TaskError(code: exceeded.limit.errorCode, message: message), on: connection)
                return nil
            }
            try connection.query(
                """
                UPDATE tasks
                SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()),
                    heartbeat_at = now(), next_attempt_at = NULL, updated_at = now()
                WHERE id = $1
                """,
                [id]
            )
            return TaskAttempt(
                taskID: taskID, userID: userID, request: request, attempt: attempts + 1,
                maxAttempts: Int(try current.int("max_attempts")), price: price,
                acceptsResponseFormat: try current.bool("accepts_response_format")
            )
        }
    }

    /// Records that the workers running `taskIDs` are alive, in one statement.
    public func heartbeat(_ taskIDs: [UUID]) async throws {
        guard !taskIDs.isEmpty else { return }
        let list = "{" + taskIDs.map(\.uuidString).joined(separator: ",") + "}"
        try await database.run { connection in
            try connection.query(
                "UPDATE tasks SET heartbeat_at = now() WHERE id = ANY($1::uuid[]) AND status = 'running'", [.text(list)]
            )
        }
    }

    /// Stores the images, the charge and `succeeded` in one transaction. The charge is the
    /// task's price applied to what the call returned (`TaskPrice.charge`).
    ///
    /// If the owner asked to cancel meanwhile, the images are discarded and the task
    /// ends `canceled`, but the charge is still recorded: the provider has billed it.
    public func complete(_ attempt: TaskAttempt, images: [StoredImage], usage: TokenUsage?) async throws -> AttemptOutcome {
        let cost = attempt.price.charge(images: images.count, usage: usage)
        return try await database.transaction { connection in
            guard let cancelRequested = try Self.lockCurrent(attempt, on: connection) else { return .superseded }
            if cancelRequested {
                try Self.end(attempt.taskID, as: .canceled, error: nil, on: connection)
            } else {
                try Self.end(attempt.taskID, as: .succeeded, error: nil, on: connection)
                for (position, image) in images.enumerated() {
                    try connection.query(
                        "INSERT INTO task_images (task_id, position, media_type, bytes, revised_prompt) VALUES ($1, $2, $3, $4, $5)",
                        [
                            .text(attempt.taskID.uuidString), .int(position), .text(image.mediaType), .bytes(image.bytes),
                            .optional(image.revisedPrompt),
                        ]
                    )
                }
            }
            try SpendLedger.resolve(taskID: attempt.taskID, attempt: attempt.attempt, as: .settled(cost, images: images.count), on: connection)
            try connection.query(
                """
                INSERT INTO charges (task_id, user_id, attempt, amount_micro_usd, images, model, size, quality,
                                     text_input_tokens, image_input_tokens, output_tokens)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                ON CONFLICT (task_id) DO NOTHING
                """,
                [
                    .text(attempt.taskID.uuidString), .text(attempt.userID.uuidString), .int(attempt.attempt),
                    .int(cost.value), .int(images.count), .text(attempt.request.model), .text(attempt.request.size),
                    .text(attempt.request.quality), usage.map { .int($0.textInputTokens) } ?? .null,
                    usage.map { .int($0.imageInputTokens) } ?? .null, usage.map { .int($0.outputTokens) } ?? .null,
                ]
            )
            return cancelRequested ? .canceled : .recorded
        }
    }

    /// Marks the attempt failed but to be tried again after `delayMilliseconds`. Its
    /// reservation is released, or kept as unsettled when the provider may have billed.
    /// With `countsAsAttempt` false (the provider refused the key, not the task) one more
    /// attempt is allowed, so the refusal does not use one up.
    public func scheduleRetry(
        _ attempt: TaskAttempt, delayMilliseconds: Int64, error: TaskError, providerMayHaveBilled: Bool, countsAsAttempt: Bool = true
    ) async throws -> AttemptOutcome {
        try await database.transaction { connection in
            guard let cancelRequested = try Self.lockCurrent(attempt, on: connection) else { return .superseded }
            try Self.closeReservation(of: attempt, providerMayHaveBilled: providerMayHaveBilled, on: connection)
            if cancelRequested {
                try Self.end(attempt.taskID, as: .canceled, error: error, on: connection)
                return .canceled
            }
            try connection.query(
                """
                UPDATE tasks SET status = 'retrying', next_attempt_at = now() + $2 * interval '1 millisecond',
                                 error_code = $3, error_message = $4, heartbeat_at = NULL, updated_at = now(),
                                 max_attempts = max_attempts + $5
                WHERE id = $1
                """,
                [
                    .text(attempt.taskID.uuidString), .int(delayMilliseconds), .text(error.code), .text(error.message),
                    .int(countsAsAttempt ? 0 : 1),
                ]
            )
            return .recorded
        }
    }

    /// Ends the task as `failed` after its latest attempt, closing its reservation as `scheduleRetry` does.
    public func fail(_ attempt: TaskAttempt, error: TaskError, providerMayHaveBilled: Bool) async throws -> AttemptOutcome {
        try await database.transaction { connection in
            guard let cancelRequested = try Self.lockCurrent(attempt, on: connection) else { return .superseded }
            try Self.closeReservation(of: attempt, providerMayHaveBilled: providerMayHaveBilled, on: connection)
            try Self.end(attempt.taskID, as: cancelRequested ? .canceled : .failed, error: error, on: connection)
            return cancelRequested ? .canceled : .recorded
        }
    }

    /// Returns a task whose attempt the worker gave up on while shutting down to `queued`,
    /// with one more attempt allowed, so the abandoned one does not count against it.
    /// Attempt numbers only grow, so they stay unique fencing tokens.
    ///
    /// - Parameter providerMayHaveBilled: the provider call was cut off mid-flight, so the
    ///   reservation stays counted as unsettled; without a call it is released.
    public func handBack(_ attempt: TaskAttempt, providerMayHaveBilled: Bool) async throws -> AttemptOutcome {
        try await database.transaction { connection in
            guard let cancelRequested = try Self.lockCurrent(attempt, on: connection) else { return .superseded }
            try Self.closeReservation(of: attempt, providerMayHaveBilled: providerMayHaveBilled, on: connection)
            if cancelRequested {
                try Self.end(attempt.taskID, as: .canceled, error: nil, on: connection)
                return .canceled
            }
            try connection.query(
                """
                UPDATE tasks SET status = 'queued', max_attempts = max_attempts + 1, heartbeat_at = NULL, updated_at = now()
                WHERE id = $1
                """,
                [.text(attempt.taskID.uuidString)]
            )
            return .recorded
        }
    }

    private static func closeReservation(of attempt: TaskAttempt, providerMayHaveBilled: Bool, on connection: PostgresConnection) throws {
        try SpendLedger.resolve(
            taskID: attempt.taskID, attempt: attempt.attempt, as: providerMayHaveBilled ? .unsettled : .released, on: connection
        )
    }

    /// Locks the task if `attempt` is still its current one; returns whether its owner
    /// asked to cancel it, or nil when a newer attempt or a final state replaced it.
    private static func lockCurrent(_ attempt: TaskAttempt, on connection: PostgresConnection) throws -> Bool? {
        try connection.query(
            """
            SELECT cancel_requested_at IS NOT NULL AS cancel_requested FROM tasks
            WHERE id = $1 AND status = 'running' AND attempts = $2 FOR UPDATE
            """,
            [.text(attempt.taskID.uuidString), .int(attempt.attempt)]
        ).first?.bool("cancel_requested")
    }

    private static func end(_ taskID: UUID, as status: TaskStatus, error: TaskError?, on connection: PostgresConnection) throws {
        try connection.query(
            """
            UPDATE tasks SET status = $2, finished_at = now(), next_attempt_at = NULL, heartbeat_at = NULL,
                             error_code = $3, error_message = $4, updated_at = now()
            WHERE id = $1
            """,
            [.text(taskID.uuidString), .text(status.rawValue), .optional(error?.code), .optional(error?.message)]
        )
    }
}
