import Foundation
import ImagegenCore
import PostgresClient

/// An attempt that ended, with what it produced.
public struct FinishedAttempt: Sendable {
    public let attempt: TaskAttempt
    public let end: AttemptEnd
    public let images: [StoredImage]
    public let usage: TokenUsage?

    public init(_ attempt: TaskAttempt, _ end: AttemptEnd, images: [StoredImage] = [], usage: TokenUsage? = nil) {
        self.attempt = attempt
        self.end = end
        self.images = images
        self.usage = usage
    }
}

/// The worker's side of a task in PostgreSQL: start attempts and record how they ended,
/// carrying out `TaskLifecycle`'s decisions. Both work on batches, one transaction each
/// whatever the batch's size, with the users' counters changed last (`SpendLedger`). Every
/// change after the start is fenced by the attempt number, so a worker that lost its lease
/// cannot overwrite a newer attempt or charge twice.
public struct AttemptStore: Sendable {
    let database: Database
    let spend: SpendPolicy
    /// How old a running task's heartbeat must be before another worker may take it over:
    /// the workers' lease. A younger one means its worker is alive (its Redis lease may have
    /// lapsed while Redis stalled), and a second attempt would pay the provider twice.
    let takeoverAfter: Duration
    /// The clock that decides which day and month a reservation counts against.
    let now: @Sendable () -> Date

    /// A batch statement's text changes with its number of rows, so only small batches, whose
    /// few shapes recur all the time when tasks arrive one by one, are kept prepared.
    static let preparedParameterLimit = 64

    public init(
        database: Database, spend: SpendPolicy = SpendPolicy(), takeoverAfter: Duration, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.database = database
        self.spend = spend
        self.takeoverAfter = takeoverAfter
        self.now = now
    }

    /// Starts the next attempt of each task that `TaskLifecycle.start` lets start, and ends
    /// those it ends; returns the attempts started. A task missing from the answer is in no
    /// state to run.
    ///
    /// Each attempt's price and images are reserved against its user's limits in the same
    /// transaction; one that would pass a limit fails as `spend_limit_exceeded` or
    /// `image_limit_exceeded` and is never sent to the provider (`SpendAdmission`).
    ///
    /// A start that names a route first moves its task there (`tasks.routes`, fixed at
    /// submission): its model, provider and unit price become the route's, so the reservation
    /// below is made at the route's price. Only a task waiting to run, or one whose worker
    /// stopped beating (taken over), moves: a live attempt keeps the route it runs on.
    public func beginAttempts(_ starts: [AttemptStart]) async throws -> [UUID: TaskAttempt] {
        guard !starts.isEmpty else { return [:] }
        let taskIDs = starts.map(\.taskID)
        let moves = starts.filter { $0.route != nil }
        let periods = spend.periods(at: now())
        let defaults = spend.defaults
        let takeoverMilliseconds = takeoverAfter.milliseconds
        // Statements that look tasks up by a list of ids are planned for each list (`prepare:
        // false`): a prepared one keeps the plan it got while the table was young, a sequential
        // scan that reads every task ever after.
        return try await database.transaction { connection in
            if !moves.isEmpty {
                try connection.query(
                    """
                    UPDATE tasks t
                    SET model = t.routes -> m.position ->> 'model', provider = t.routes -> m.position ->> 'provider',
                        provider_model = t.routes -> m.position ->> 'provider_model',
                        unit_price_micro_usd = (t.routes -> m.position ->> 'unit_price_micro_usd')::bigint
                    FROM unnest($1::uuid[], $2::int[]) AS m (id, position)
                    WHERE t.id = m.id AND t.routes -> m.position IS NOT NULL
                      AND (t.status IN ('queued', 'retrying')
                           OR (t.status = 'running' AND NOT coalesce(t.heartbeat_at > now() - $3::bigint * interval '1 millisecond', false)))
                    """,
                    [
                        .text("{" + moves.map(\.taskID.uuidString).joined(separator: ",") + "}"),
                        .text("{" + moves.map { String($0.route ?? 0) }.joined(separator: ",") + "}"), .int(takeoverMilliseconds),
                    ],
                    prepare: false
                )
            }
            let rows = try connection.query(
                """
                SELECT t.id, t.status, t.attempts, t.max_attempts, t.cancel_requested_at IS NOT NULL AS cancel_requested,
                       coalesce(t.heartbeat_at > now() - $2::bigint * interval '1 millisecond', false) AS heartbeat_fresh,
                       coalesce(t.deadline_at < now(), false) AS overdue, t.started_at IS NULL AS never_started,
                       t.user_id, t.prompt, t.model, t.size, t.quality, t.style, t.n, t.end_user, t.image_options::text AS image_options,
                       t.unit_price_micro_usd, t.provider, t.provider_model,
                       coalesce(m.accepts_response_format, true) AS accepts_response_format,
                       r.output_micro_usd_per_million IS NOT NULL AS billed_by_tokens, r.*, \(UserLimits.columns)
                FROM tasks t
                JOIN users u ON u.id = t.user_id
                LEFT JOIN models m ON m.name = t.model
                LEFT JOIN LATERAL (
                    SELECT \(TokenRates.columns) FROM token_prices p
                    WHERE p.model = t.model AND p.effective_from <= t.created_at
                    ORDER BY p.effective_from DESC LIMIT 1
                ) r ON true
                WHERE t.id = ANY($1::uuid[]) ORDER BY t.id FOR UPDATE OF t
                """,
                [.text("{" + taskIDs.map(\.uuidString).joined(separator: ",") + "}"), .int(takeoverMilliseconds)],
                prepare: false
            )
            var plan = StartPlan()
            for row in rows.map({ $0 }) {
                let taskID = UUID(uuidString: try row.string("id"))!
                let state = TaskState(
                    status: TaskStatus(rawValue: try row.string("status")) ?? .failed, attempts: Int(try row.int("attempts")),
                    maxAttempts: Int(try row.int("max_attempts")), cancelRequested: try row.bool("cancel_requested"),
                    heartbeatFresh: try row.bool("heartbeat_fresh"), overdue: try row.bool("overdue")
                )
                switch TaskLifecycle.start(state) {
                case .leave:
                    continue
                case .end(let status, let error, let takingOver):
                    if takingOver { plan.unsettled.append([.text(taskID.uuidString), .int(state.attempts)]) }
                    plan.ended.append([.text(taskID.uuidString), .text(status.rawValue), .optional(error?.code), .optional(error?.message)])
                case .start(let number, let takingOver):
                    if takingOver { plan.unsettled.append([.text(taskID.uuidString), .int(state.attempts)]) }
                    let attempt = try Self.attempt(number, of: taskID, maxAttempts: state.maxAttempts, row: row, periods: periods)
                    plan.starts.append(StartPlan.Start(
                        attempt: attempt, limits: try UserLimits(row).or(defaults), neverStarted: try row.bool("never_started")
                    ))
                }
            }
            try plan.apply(on: connection)
            // The shared counters last: every attempt is counted, then the ones that do not fit are taken back.
            let openings = SpendLedger.sum(plan.starts.map(\.attempt.reservation.opening))
            let totals = try SpendLedger.add(openings, on: connection)
            let before = totals.reduce(into: [SpendCounter: CounterValues]()) { before, counter in
                before[counter.key] = counter.value - openings[counter.key, default: CounterValues()]
            }
            let refusals = SpendAdmission.admit(
                plan.starts.map { SpendAdmission.Request(reservation: $0.attempt.reservation, limits: $0.limits) }, counters: before
            )
            let refused = zip(plan.starts, refusals).compactMap { start, refusal in refusal.map { (start, $0) } }
            if !refused.isEmpty {
                try Self.takeBack(refused, periods: periods, on: connection)
            }
            let refusedIDs = Set(refused.map(\.0.attempt.taskID))
            return Dictionary(uniqueKeysWithValues: plan.starts.filter { !refusedIDs.contains($0.attempt.taskID) }.map {
                ($0.attempt.taskID, $0.attempt)
            })
        }
    }

    public func beginAttempt(taskID: UUID) async throws -> TaskAttempt? {
        try await beginAttempts([AttemptStart(taskID: taskID)])[taskID]
    }

    /// The providers of a task's routes, its own first (nil for the worker's default
    /// provider); nil when the task does not exist. For queue entries that do not carry them.
    public func providers(of taskID: UUID) async throws -> [String?]? {
        try await database.run { connection in
            guard let row = try connection.query(
                "SELECT coalesce(routes, '[{}]'::jsonb)::text AS routes FROM tasks WHERE id = $1", [.text(taskID.uuidString)]
            ).first else { return nil }
            struct Route: Decodable { let provider: String? }
            return try JSONDecoder().decode([Route].self, from: Data(try row.string("routes").utf8)).map(\.provider)
        }
    }

    /// Keeps a draft the provider streamed as the task's latest and counts it, so that the
    /// task's event streams send it; a draft of a newer attempt or of an ended task is ignored.
    public func recordPartialImage(_ attempt: TaskAttempt, index: Int, mediaType: String, bytes: [UInt8]) async throws {
        try await database.run { connection in
            try connection.query(
                """
                WITH running AS (
                    UPDATE tasks SET partial_images = partial_images + 1, updated_at = now()
                    WHERE id = $1 AND attempts = $2 AND status = 'running'
                    RETURNING id
                )
                INSERT INTO task_partial_images (task_id, attempt, partial_index, media_type, bytes)
                SELECT id, $2, $3, $4, $5 FROM running
                ON CONFLICT (task_id) DO UPDATE
                SET attempt = excluded.attempt, partial_index = excluded.partial_index, media_type = excluded.media_type,
                    bytes = excluded.bytes, received_at = now()
                """,
                [.text(attempt.taskID.uuidString), .int(attempt.attempt), .int(index), .text(mediaType), .bytes(bytes)]
            )
        }
    }

    /// Records how far the provider says the attempt has come; a change of a newer attempt
    /// or of an ended task is ignored. Listeners of the task hear of it.
    public func recordProgress(_ attempt: TaskAttempt, _ progress: String) async throws {
        try await database.run { connection in
            try connection.query(
                "UPDATE tasks SET progress = $3, updated_at = now() WHERE id = $1 AND attempts = $2 AND status = 'running'",
                [.text(attempt.taskID.uuidString), .int(attempt.attempt), .text(progress)]
            )
        }
    }

    /// Records how each attempt ended (`TaskLifecycle.finish`): the images, the charge, the
    /// task's next status and its reservation's end, in one transaction. The charge is the
    /// task's price applied to what the call returned. An owner who asked to cancel meanwhile
    /// gets `canceled` and no images, but a billed call is still charged.
    public func finish(_ finished: [FinishedAttempt]) async throws -> [AttemptOutcome] {
        guard !finished.isEmpty else { return [] }
        let transitions = finished.map { TaskLifecycle.finish($0.end) }
        let moved = try await database.transaction { connection -> [UUID: TaskStatus] in
            var decisions = ParameterRows(types: ["uuid", "int", "text", "text", "text", "bool", "text", "text", "bool", "bigint", "int", "text"])
            for (finish, transition) in zip(finished, transitions) {
                let resolution = switch transition.reservation {
                case .settled: "settled"
                case .released: "released"
                case .unsettled: "unsettled"
                }
                decisions.append([
                    .text(finish.attempt.taskID.uuidString), .int(finish.attempt.attempt), .text(TaskStatus.running.rawValue),
                    .text(transition.status.rawValue),
                    .text(transition.statusIfCancelRequested.rawValue), .text(transition.status.isTerminal ? "true" : "false"),
                    .optional(transition.error?.code), .optional(transition.error?.message), .text(transition.keepsError ? "true" : "false"),
                    transition.retryDelayMilliseconds.map { .int($0) } ?? .null, .int(transition.extraAttempts), .text(resolution),
                ])
            }
            var images = ParameterRows(types: ["uuid", "int", "text", "bytea", "text"])
            var charges = ParameterRows(
                types: ["uuid", "uuid", "int", "bigint", "int", "text", "text", "text", "bigint", "bigint", "bigint", "text"]
            )
            for finish in finished {
                let id = PostgresValue.text(finish.attempt.taskID.uuidString)
                for (position, image) in finish.images.enumerated() {
                    images.append([id, .int(position), .text(image.mediaType), .bytes(image.bytes), .optional(image.revisedPrompt)])
                }
            }
            for (finish, transition) in zip(finished, transitions) {
                guard case .settled(let cost, let count) = transition.reservation else { continue }
                let attempt = finish.attempt, usage = finish.usage
                charges.append([
                    .text(attempt.taskID.uuidString), .text(attempt.userID.uuidString), .int(attempt.attempt), .int(cost.value), .int(count),
                    .text(attempt.request.model), .text(attempt.request.size), .text(attempt.request.quality),
                    usage.map { .int($0.textInputTokens) } ?? .null, usage.map { .int($0.imageInputTokens) } ?? .null,
                    usage.map { .int($0.outputTokens) } ?? .null, .optional(attempt.provider),
                ])
            }
            // The fence on `running` comes with each row rather than as a constant: a constant lets
            // the planner scan a status index for it, whose entries for every row version cost far
            // more than one primary-key lookup per task, and it did so while the table was young.
            let statement = ParameterRows.layout([decisions, images, charges])
            let rows = try connection.query(
                """
                WITH d (id, attempt, running, status, status_if_canceled, finishes, code, message, keeps_error, delay_ms, extra, resolution) AS (
                    \(statement.values[0])
                ), moved AS (
                    UPDATE tasks t
                    SET status = CASE WHEN t.cancel_requested_at IS NULL THEN d.status ELSE d.status_if_canceled END,
                        finished_at = CASE WHEN t.cancel_requested_at IS NOT NULL OR d.finishes THEN now() END,
                        next_attempt_at = CASE WHEN t.cancel_requested_at IS NULL THEN now() + d.delay_ms * interval '1 millisecond' END,
                        error_code = CASE WHEN d.keeps_error THEN t.error_code ELSE d.code END,
                        error_message = CASE WHEN d.keeps_error THEN t.error_message ELSE d.message END,
                        max_attempts = t.max_attempts + d.extra, heartbeat_at = NULL, updated_at = now()
                    FROM d WHERE t.id = d.id AND t.status = d.running AND t.attempts = d.attempt
                    RETURNING t.id, t.status
                ), stored AS (
                    INSERT INTO task_images (task_id, position, media_type, bytes, revised_prompt)
                    SELECT i.task_id, i.position, i.media_type, i.bytes, i.revised_prompt
                    FROM (\(statement.values[1])) AS i (task_id, position, media_type, bytes, revised_prompt)
                    JOIN moved m ON m.id = i.task_id AND m.status = 'succeeded'
                ), charged AS (
                    INSERT INTO charges (task_id, user_id, attempt, amount_micro_usd, images, model, size, quality,
                                         text_input_tokens, image_input_tokens, output_tokens, provider)
                    SELECT c.* FROM (\(statement.values[2])) AS c (task_id, user_id, attempt, amount, images, model, size, quality, text_tokens,
                                                              image_tokens, output_tokens, provider)
                    JOIN moved m ON m.id = c.task_id
                    ON CONFLICT (task_id) DO NOTHING
                ), resolved AS (
                    UPDATE reservations r SET state = d.resolution, resolved_at = now()
                    FROM d JOIN moved m ON m.id = d.id
                    WHERE r.task_id = d.id AND r.attempt = d.attempt AND r.state = 'reserved'
                    RETURNING r.task_id
                )
                SELECT m.id, m.status, EXISTS (SELECT 1 FROM resolved WHERE resolved.task_id = m.id) AS resolved FROM moved m
                """,
                statement.parameters, prepare: statement.parameters.count <= AttemptStore.preparedParameterLimit
            )
            var moved: [UUID: TaskStatus] = [:]
            var resolved: Set<UUID> = []
            for row in rows.map({ $0 }) {
                let id = UUID(uuidString: try row.string("id"))!
                moved[id] = TaskStatus(rawValue: try row.string("status"))
                if try row.bool("resolved") { resolved.insert(id) }
            }
            let closings = zip(finished, transitions).filter { resolved.contains($0.0.attempt.taskID) }.map { finish, transition in
                finish.attempt.reservation.closing(as: transition.reservation)
            }
            try SpendLedger.add(SpendLedger.sum(closings), on: connection)
            return moved
        }
        return zip(finished, transitions).map { finish, transition in
            guard let status = moved[finish.attempt.taskID] else { return .superseded }
            return status == .canceled && transition.status != .canceled ? .canceled : .recorded
        }
    }

    public func complete(_ attempt: TaskAttempt, images: [StoredImage], usage: TokenUsage?) async throws -> AttemptOutcome {
        let cost = attempt.price.charge(images: images.count, usage: usage)
        return try await finish([FinishedAttempt(attempt, .succeeded(cost: cost, images: images.count), images: images, usage: usage)])[0]
    }

    public func scheduleRetry(
        _ attempt: TaskAttempt, delayMilliseconds: Int64, error: TaskError, providerMayHaveBilled: Bool, countsAsAttempt: Bool = true
    ) async throws -> AttemptOutcome {
        let end = AttemptEnd.retry(
            delayMilliseconds: delayMilliseconds, error: error, providerMayHaveBilled: providerMayHaveBilled, countsAsAttempt: countsAsAttempt
        )
        return try await finish([FinishedAttempt(attempt, end)])[0]
    }

    public func fail(_ attempt: TaskAttempt, error: TaskError, providerMayHaveBilled: Bool) async throws -> AttemptOutcome {
        try await finish([FinishedAttempt(attempt, .failed(error, providerMayHaveBilled: providerMayHaveBilled))])[0]
    }

    public func handBack(_ attempt: TaskAttempt, providerMayHaveBilled: Bool) async throws -> AttemptOutcome {
        try await finish([FinishedAttempt(attempt, .handedBack(providerMayHaveBilled: providerMayHaveBilled))])[0]
    }

    /// Records that the workers running `taskIDs` are alive, in one statement.
    public func heartbeat(_ taskIDs: [UUID]) async throws {
        guard !taskIDs.isEmpty else { return }
        let list = "{" + taskIDs.map(\.uuidString).joined(separator: ",") + "}"
        // Planned for its list, as `beginAttempts` explains. A task a batch is changing right now
        // is skipped rather than waited for: it is being finished or taken over, and the next beat,
        // a third of a lease later, still comes in time; waiting could deadlock with that batch.
        try await database.run { connection in
            try connection.query(
                """
                UPDATE tasks t SET heartbeat_at = now()
                FROM (SELECT id FROM tasks WHERE id = ANY($1::uuid[]) AND status = 'running' FOR UPDATE SKIP LOCKED) AS beating
                WHERE t.id = beating.id
                """,
                [.text(list)], prepare: false
            )
        }
    }

    private static func attempt(_ number: Int, of taskID: UUID, maxAttempts: Int, row: PostgresRow, periods: SpendPeriods) throws -> TaskAttempt {
        let request = ImageRequest(
            prompt: try row.string("prompt"), model: try row.string("model"), size: try row.string("size"),
            quality: try row.string("quality"), style: try row.optionalString("style"), n: Int(try row.int("n")),
            endUser: try row.optionalString("end_user"), options: try row.optionalString("image_options").flatMap(ImageOptions.init(json:))
        )
        let price = TaskPrice(
            unit: MicroDollars(try row.int("unit_price_micro_usd")),
            tokenRates: try row.bool("billed_by_tokens") ? try TokenRates(row) : nil
        )
        let userID = UUID(uuidString: try row.string("user_id"))!
        return TaskAttempt(
            taskID: taskID, userID: userID, request: request, attempt: number, maxAttempts: maxAttempts, price: price,
            acceptsResponseFormat: try row.bool("accepts_response_format"), provider: try row.optionalString("provider"),
            providerModel: try row.optionalString("provider_model"),
            reservation: SpendReservation(userID: userID, amount: price.reservation(for: request), images: request.n, periods: periods)
        )
    }

    /// Undoes the starts that would pass a limit, within the transaction that made them, and
    /// fails their tasks with the limit's reason.
    private static func takeBack(_ refused: [(StartPlan.Start, LimitRefusal)], periods: SpendPeriods, on connection: PostgresConnection) throws {
        var rows = ParameterRows(types: ["uuid", "int", "text", "text", "bool"])
        for (start, refusal) in refused {
            let attempt = start.attempt
            let message = refusal.limit.refusal(
                cost: attempt.reservation.amount, images: attempt.reservation.images, cap: refusal.cap, committed: refusal.committed,
                periods: periods
            )
            rows.append([
                .text(attempt.taskID.uuidString), .int(attempt.attempt), .text(refusal.limit.errorCode), .text(message),
                .text(start.neverStarted ? "true" : "false"),
            ])
        }
        try connection.query(
            """
            WITH f (id, attempt, code, message, never_started) AS (\(ParameterRows.layout([rows]).values[0])),
            undone AS (DELETE FROM reservations r USING f WHERE r.task_id = f.id AND r.attempt = f.attempt)
            UPDATE tasks t
            SET status = 'failed', attempts = f.attempt - 1, started_at = CASE WHEN f.never_started THEN NULL ELSE t.started_at END,
                finished_at = now(), next_attempt_at = NULL, heartbeat_at = NULL, error_code = f.code, error_message = f.message,
                updated_at = now()
            FROM f WHERE t.id = f.id
            """,
            rows.parameters, prepare: rows.parameters.count <= AttemptStore.preparedParameterLimit
        )
        let openings = SpendLedger.sum(refused.map(\.0.attempt.reservation.opening))
        try SpendLedger.add(openings.mapValues { CounterValues() - $0 }, on: connection)
    }
}

/// What one batch of starts changes, before the counters.
private struct StartPlan {
    struct Start {
        let attempt: TaskAttempt
        let limits: UserLimits
        let neverStarted: Bool
    }

    var starts: [Start] = []
    /// Tasks ended without an attempt: id, status, error code, error message.
    var ended = ParameterRows(types: ["uuid", "text", "text", "text"])
    /// Earlier attempts taken over: task id, attempt.
    var unsettled = ParameterRows(types: ["uuid", "int"])

    /// One statement: the ended tasks, the started ones and their reservations, and the
    /// reservations of attempts taken over, which stay counted as unsettled.
    func apply(on connection: PostgresConnection) throws {
        var started = ParameterRows(types: ["uuid", "int"])
        var reserved = ParameterRows(types: ["uuid", "int", "uuid", "bigint", "int", "date", "date", "timestamptz"])
        for start in starts {
            let attempt = start.attempt, reservation = attempt.reservation
            started.append([.text(attempt.taskID.uuidString), .int(attempt.attempt)])
            reserved.append([
                .text(attempt.taskID.uuidString), .int(attempt.attempt), .text(reservation.userID.uuidString), .int(reservation.amount.value),
                .int(reservation.images), .text(reservation.day), .text(reservation.month), .optional(reservation.hour),
            ])
        }
        let statement = ParameterRows.layout([ended, started, unsettled, reserved])
        try connection.query(
            """
            WITH e (id, status, code, message) AS (\(statement.values[0])),
            s (id, attempt) AS (\(statement.values[1])),
            u (id, attempt) AS (\(statement.values[2])),
            v (task_id, attempt, user_id, amount, images, day, month, hour) AS (\(statement.values[3])),
            ended AS (
                UPDATE tasks t SET status = e.status, finished_at = now(), next_attempt_at = NULL, heartbeat_at = NULL,
                                   error_code = e.code, error_message = e.message, updated_at = now()
                FROM e WHERE t.id = e.id
            ), started AS (
                UPDATE tasks t SET status = 'running', attempts = s.attempt, started_at = coalesce(t.started_at, now()),
                                   heartbeat_at = now(), next_attempt_at = NULL, progress = NULL, updated_at = now()
                FROM s WHERE t.id = s.id
            ), unsettled AS (
                UPDATE reservations r SET state = 'unsettled', resolved_at = now()
                FROM u WHERE r.task_id = u.id AND r.attempt = u.attempt AND r.state = 'reserved'
            )
            INSERT INTO reservations (task_id, attempt, user_id, amount_micro_usd, images, day, month, hour, state)
            SELECT task_id, attempt, user_id, amount, images, day, month, hour, 'reserved' FROM v WHERE task_id IS NOT NULL
            """,
            statement.parameters, prepare: statement.parameters.count <= AttemptStore.preparedParameterLimit
        )
    }
}
