import Foundation
import ImagegenCore
import PostgresClient

/// Tasks, their images and their charges: every state change of a task happens here.
public struct TaskStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// How long an Idempotency-Key is remembered.
    public static let idempotencyKeyLifetimeHours = 24

    /// How long a task may wait to start before it fails as `expired`.
    public static let defaultDeadline = Duration.seconds(24 * 3_600)

    /// Records a new task as `queued`. The row is committed before the task is enqueued.
    ///
    /// With an idempotency key, a repeat of the same request returns the first task
    /// instead, and a different request under the same key is refused.
    ///
    /// - Parameters:
    ///   - routes: the task's own route, then the routes it may fall back to: only the first
    ///     is kept unless the request, or else the user's default, allows fallback.
    ///   - deadline: an attempt that has not started this long after submission never will:
    ///     the task fails as `expired`, uncharged.
    ///   - admit: runs first on the connection that inserts the task (in its transaction, with
    ///     an idempotency key) and throws to refuse it: a check and the insert in one call.
    ///   - admitOnlyUsersWithLimits: whether `admit` can only refuse a user who has a limit of
    ///     their own (no default limit is configured). The insert then runs first, on the
    ///     condition that the user has none, and `admit` runs only if they have: a submission
    ///     nothing could refuse costs one statement.
    public func create(
        userID: UUID, request: ImageRequest, unitPrice: MicroDollars, routes: [TaskRoute], maxAttempts: Int, queue: String,
        idempotencyKey: IdempotencyKey? = nil, deadline: Duration = TaskStore.defaultDeadline,
        admit: @escaping @Sendable (PostgresConnection) throws -> Void = { _ in }, admitOnlyUsersWithLimits: Bool = false
    ) async throws -> Submission {
        let taskID = UUID()
        let routesJSON = String(decoding: try JSONEncoder().encode(routes), as: UTF8.self)
        /// The task inserted, or nil when `ifUnlimited` and the user has a limit of their own.
        @Sendable func insert(on connection: PostgresConnection, ifUnlimited: Bool) throws -> Submission? {
            // The task keeps its own route alone unless it may fall back; PostgreSQL says how
            // many it kept, so the routes are not decoded back from JSON on the busiest route.
            guard let row = try connection.query(
                """
                INSERT INTO tasks (id, user_id, status, prompt, model, size, quality, style, n, end_user,
                                   unit_price_micro_usd, max_attempts, queue, deadline_at, image_options,
                                   routes, provider, provider_model)
                SELECT $1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now() + $13::bigint * interval '1 millisecond',
                       $14::jsonb,
                       CASE WHEN coalesce($15::boolean, u.fallback, false) OR jsonb_array_length($16::jsonb) < 2 THEN $16::jsonb
                            ELSE jsonb_build_array($16::jsonb -> 0) END,
                       $16::jsonb -> 0 ->> 'provider', $16::jsonb -> 0 ->> 'provider_model'
                FROM users u WHERE u.id = $2 AND NOT ($17::boolean AND num_nonnulls(\(UserLimits.columns)) > 0)
                RETURNING jsonb_array_length(routes) AS kept
                """,
                [
                    .text(taskID.uuidString), .text(userID.uuidString), .text(request.prompt), .text(request.model),
                    .text(request.size), .text(request.quality), .optional(request.style), .int(request.n),
                    .optional(request.endUser), .int(unitPrice.value), .int(maxAttempts), .text(queue), .int(deadline.milliseconds),
                    .optional(request.options?.json), .optional(request.fallback.map { $0 ? "true" : "false" }), .text(routesJSON),
                    .text(ifUnlimited ? "true" : "false"),
                ]
            ).first else {
                guard ifUnlimited else { throw PostgresError(.statement, "the task's user is gone; it was not inserted") }
                return nil
            }
            return .created(taskID, routes: Array(routes.prefix(Int(try row.int("kept")))))
        }
        @Sendable func admitAndInsert(on connection: PostgresConnection) throws -> Submission {
            if admitOnlyUsersWithLimits, let created = try insert(on: connection, ifUnlimited: true) { return created }
            try admit(connection)
            return try insert(on: connection, ifUnlimited: false)!
        }
        guard let idempotencyKey else {
            // One statement commits by itself: no BEGIN and COMMIT round trips on the busiest route.
            return try await database.run { connection in try admitAndInsert(on: connection) }
        }
        return try await database.transaction { connection in
            let user = PostgresValue.text(userID.uuidString), key = PostgresValue.text(idempotencyKey.key)
            try connection.query(
                """
                DELETE FROM idempotency_keys
                WHERE user_id = $1 AND key = $2 AND created_at < now() - $3 * interval '1 hour'
                """,
                [user, key, .int(Self.idempotencyKeyLifetimeHours)]
            )
            let claimed = try connection.query(
                """
                INSERT INTO idempotency_keys (user_id, key, request_digest, task_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT (user_id, key) DO NOTHING
                """,
                [user, key, .bytes(idempotencyKey.requestDigest), .text(taskID.uuidString)]
            )
            if claimed.affectedRows == 0 {
                guard let earlier = try Self.earlierSubmission(userID: userID, idempotencyKey: idempotencyKey, on: connection) else {
                    throw PostgresError(.statement, "the idempotency key's row changed while it was claimed; retry the request")
                }
                return earlier
            }
            return try admitAndInsert(on: connection)
        }
    }

    /// The task an unexpired idempotency key already stands for, if any: a replay of the
    /// same request, or a reuse of the key for a different one.
    public func earlierSubmission(userID: UUID, idempotencyKey: IdempotencyKey) async throws -> Submission? {
        try await database.run { connection in
            try Self.earlierSubmission(userID: userID, idempotencyKey: idempotencyKey, on: connection)
        }
    }

    private static func earlierSubmission(
        userID: UUID, idempotencyKey: IdempotencyKey, on connection: PostgresConnection
    ) throws -> Submission? {
        guard let earlier = try connection.query(
            """
            SELECT k.request_digest = $3 AS same_request, k.task_id, t.status
            FROM idempotency_keys k JOIN tasks t ON t.id = k.task_id
            WHERE k.user_id = $1 AND k.key = $2 AND k.created_at >= now() - $4 * interval '1 hour'
            """,
            [.text(userID.uuidString), .text(idempotencyKey.key), .bytes(idempotencyKey.requestDigest), .int(idempotencyKeyLifetimeHours)]
        ).first else { return nil }
        let taskID = UUID(uuidString: try earlier.string("task_id"))!
        guard try earlier.bool("same_request") else { return .keyReused(taskID) }
        return .replayed(taskID, TaskStatus(rawValue: try earlier.string("status")) ?? .queued)
    }

    /// Cancels the owner's task: at once when it waits, at the end of its attempt when it runs.
    /// Returns nil when the task does not exist or belongs to someone else.
    ///
    /// - Parameter userID: the task's owner; nil for an operator, who may cancel anyone's task.
    public func cancel(taskID: UUID, userID: UUID?) async throws -> Cancellation? {
        try await database.transaction { connection in
            let id = PostgresValue.text(taskID.uuidString)
            guard let row = try connection.query(
                "SELECT status FROM tasks WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2) FOR UPDATE", [id, .optional(userID?.uuidString)]
            ).first, let status = TaskStatus(rawValue: try row.string("status")) else { return nil }
            switch TaskLifecycle.cancel(status) {
            case .cancelNow:
                try connection.query(
                    """
                    UPDATE tasks SET status = 'canceled', cancel_requested_at = now(), finished_at = now(),
                                     next_attempt_at = NULL, updated_at = now()
                    WHERE id = $1
                    """,
                    [id]
                )
                return .canceled
            case .askWorker:
                try connection.query(
                    "UPDATE tasks SET cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now() WHERE id = $1",
                    [id]
                )
                return .requested
            case .alreadyCanceled:
                return .canceled
            case .alreadyFinished(let status):
                return .alreadyFinished(status)
            }
        }
    }

    /// The task as its owner sees it, or nil when it does not exist or belongs to someone else.
    /// Image bytes are never part of it: `snapshotWithImages` and `imageSlice` read them.
    public func snapshot(taskID: UUID, userID: UUID) async throws -> TaskSnapshot? {
        let rows = try await database.run { connection in
            try connection.query(
                "\(Self.snapshotQuery) WHERE \(Self.ownersTask)", [.text(taskID.uuidString), .text(userID.uuidString)]
            )
        }
        return try rows.first.map(TaskSnapshot.init)
    }

    /// The task as its owner sees it with its stored images in order, each image's base64
    /// included when it has at most `wholeUpTo` bytes (larger ones are read with `imageSlice`):
    /// the status route's whole read, in one statement.
    public func snapshotWithImages(
        taskID: UUID, userID: UUID, wholeUpTo: Int
    ) async throws -> (snapshot: TaskSnapshot, images: [StoredImageDescription])? {
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT \(Self.snapshotColumns),
                       i.position, i.media_type, i.revised_prompt, octet_length(i.bytes) AS byte_count,
                       CASE WHEN octet_length(i.bytes) <= $3 THEN replace(encode(i.bytes, 'base64'), E'\\n', '') END AS base64
                FROM tasks t LEFT JOIN charges c ON c.task_id = t.id LEFT JOIN task_images i ON i.task_id = t.id
                WHERE \(Self.ownersTask)
                ORDER BY i.position
                """,
                [.text(taskID.uuidString), .text(userID.uuidString), .int(wholeUpTo)]
            )
        }
        guard let first = rows.first else { return nil }
        let images = try rows.map({ $0 }).compactMap { row -> StoredImageDescription? in
            guard let position = try row.optionalInt("position") else { return nil }
            return StoredImageDescription(
                position: Int(position), mediaType: try row.string("media_type"), revisedPrompt: try row.optionalString("revised_prompt"),
                byteCount: Int(try row.int("byte_count")), base64: try row.optionalString("base64")
            )
        }
        return (try TaskSnapshot(first), images)
    }

    /// The latest draft the provider streamed for the owner's task, if any.
    public func latestPartialImage(taskID: UUID, userID: UUID) async throws -> PartialImage? {
        try await database.run { connection in
            try connection.query(
                """
                SELECT p.partial_index::text AS partial_index, p.media_type, p.bytes
                FROM task_partial_images p JOIN tasks t ON t.id = p.task_id
                WHERE \(Self.ownersTask)
                """,
                // Binary, so the bytes come as they are; the index is read as text for it.
                [.text(taskID.uuidString), .text(userID.uuidString)], binaryResult: true
            ).first.map { row in
                PartialImage(
                    index: Int(try row.string("partial_index")) ?? 0, mediaType: try row.string("media_type"),
                    bytes: try row.optionalBytes("bytes") ?? []
                )
            }
        }
    }

    /// `length` bytes of one image from `offset`, or nil when the image is gone (purged meanwhile).
    /// Reading a slice at a time keeps a large answer's memory to one slice, however many read it at once.
    public func imageSlice(taskID: UUID, position: Int, offset: Int, length: Int) async throws -> [UInt8]? {
        try await database.run { connection in
            try connection.query(
                "SELECT substring(bytes FROM $3 FOR $4) AS slice FROM task_images WHERE task_id = $1 AND position = $2",
                [.text(taskID.uuidString), .int(position), .int(offset + 1), .int(length)],
                binaryResult: true
            )
        }.first.map { try $0.optionalBytes("slice") ?? [] }
    }

    /// One page of the owner's tasks, newest first, without image bytes.
    ///
    /// - Parameters:
    ///   - after: the position of the last task of the previous page; nil for the first page.
    ///   - limit: at most this many tasks; `nextPage` is set when more follow.
    public func list(userID: UUID, status: TaskStatus?, after: TaskPagePosition?, limit: Int) async throws -> TaskPage {
        let rows = try await database.run { connection in
            try connection.query(
                """
                \(Self.snapshotQuery)
                WHERE t.user_id = $1 AND ($2::text IS NULL OR t.status = $2)
                  AND ($3::bigint IS NULL
                       OR (t.created_at, t.id) < ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4::uuid))
                ORDER BY t.created_at DESC, t.id DESC
                LIMIT $5
                """,
                [
                    .text(userID.uuidString), .optional(status?.rawValue), after.map { .int($0.createdMicroseconds) } ?? .null,
                    .optional(after?.taskID.uuidString), .int(limit + 1),
                ]
            )
        }
        let snapshots = try rows.map(TaskSnapshot.init)
        let page = Array(snapshots.prefix(limit))
        let next = snapshots.count > limit ? page.last.map { TaskPagePosition(taskID: $0.taskID, createdMicroseconds: $0.createdMicroseconds) } : nil
        return TaskPage(tasks: page, nextPage: next)
    }

    /// Image `position` (from 0) of the owner's task.
    public func image(taskID: UUID, userID: UUID, position: Int) async throws -> ImageLookup {
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT t.status, t.images_purged_at::text AS purged_at, i.media_type, i.bytes
                FROM tasks t LEFT JOIN task_images i ON i.task_id = t.id AND i.position = $3
                WHERE \(Self.ownersTask)
                """,
                [.text(taskID.uuidString), .text(userID.uuidString), .int(Int64(position))],
                binaryResult: true
            )
        }
        guard let row = rows.first else { return .noTask }
        if try row.optionalString("purged_at") != nil { return .purged }
        guard let bytes = try row.optionalBytes("bytes") else {
            return TaskStatus(rawValue: try row.string("status")) == .succeeded ? .noImage : .notReady
        }
        return .found(StoredImage(mediaType: try row.string("media_type"), bytes: bytes, revisedPrompt: nil))
    }

    /// Task `$1` of user `$2`, in `tasks t`. The owner is compared with IS NOT DISTINCT FROM,
    /// which for this non-null column means `=` but is a test no index answers: the plan then
    /// always finds the task by its primary key. With `=`, a plan made while the table was young
    /// (and kept for the connection's life) could take the owner's index instead and walk
    /// through every task the owner ever had, on every poll.
    private static let ownersTask = "t.id = $1 AND t.user_id IS NOT DISTINCT FROM $2"

    /// Every column a snapshot reads, from `tasks t` and its charge.
    private static let snapshotQuery = "SELECT \(snapshotColumns) FROM tasks t LEFT JOIN charges c ON c.task_id = t.id"

    /// What a snapshot reads, from `tasks t` and its charge `c`.
    private static let snapshotColumns = """
        t.id, t.status, t.attempts, t.max_attempts, t.error_code, t.error_message, t.prompt, t.model, t.size,
               t.quality, t.n, \(rfc3339("t.created_at")) AS created_at, \(rfc3339("t.started_at")) AS started_at,
               \(rfc3339("t.finished_at")) AS finished_at, \(rfc3339("t.next_attempt_at")) AS next_attempt_at,
               \(rfc3339("t.images_purged_at")) AS images_purged_at,
               (extract(epoch FROM t.created_at) * 1000000)::bigint AS created_micros,
               t.cancel_requested_at IS NOT NULL AS cancel_requested, c.amount_micro_usd, t.provider, t.progress, t.partial_images,
               (SELECT count(*) FROM task_images i WHERE i.task_id = t.id) AS image_count
        """
}

extension TaskSnapshot {
    init(_ row: PostgresRow) throws {
        guard let taskID = UUID(uuidString: try row.string("id")), let status = TaskStatus(rawValue: try row.string("status")) else {
            throw PostgresError(.decoding, "unknown task id or status")
        }
        self.init(
            taskID: taskID,
            status: status,
            attempts: Int(try row.int("attempts")),
            maxAttempts: Int(try row.int("max_attempts")),
            prompt: try row.string("prompt"),
            model: try row.string("model"),
            size: try row.string("size"),
            quality: try row.string("quality"),
            n: Int(try row.int("n")),
            createdAt: try row.string("created_at"),
            createdMicroseconds: try row.int("created_micros"),
            startedAt: try row.optionalString("started_at"),
            finishedAt: try row.optionalString("finished_at"),
            nextAttemptAt: try row.optionalString("next_attempt_at"),
            error: try row.optionalString("error_code").map { TaskError(code: $0, message: try row.optionalString("error_message") ?? "") },
            cancelRequested: try row.bool("cancel_requested"),
            cost: try row.optionalInt("amount_micro_usd").map(MicroDollars.init),
            imageCount: Int(try row.int("image_count")),
            imagesPurgedAt: try row.optionalString("images_purged_at"),
            provider: try row.optionalString("provider"),
            progress: try row.optionalString("progress"),
            partialImages: Int(try row.int("partial_images"))
        )
    }
}
