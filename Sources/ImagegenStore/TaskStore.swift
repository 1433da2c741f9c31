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

    /// Records a new task as `queued`. The row is committed before the task is enqueued.
    ///
    /// With an idempotency key, a repeat of the same request returns the first task
    /// instead, and a different request under the same key is refused.
    public func create(
        userID: UUID, request: ImageRequest, unitPrice: MicroDollars, maxAttempts: Int, queue: String,
        idempotencyKey: IdempotencyKey? = nil
    ) async throws -> Submission {
        let taskID = UUID()
        return try await database.transaction { connection in
            if let idempotencyKey {
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
            }
            try connection.query(
                """
                INSERT INTO tasks (id, user_id, status, prompt, model, size, quality, style, n, end_user,
                                   unit_price_micro_usd, max_attempts, queue)
                VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                """,
                [
                    .text(taskID.uuidString), .text(userID.uuidString), .text(request.prompt), .text(request.model),
                    .text(request.size), .text(request.quality), .optional(request.style), .int(request.n),
                    .optional(request.endUser), .int(unitPrice.value), .int(maxAttempts), .text(queue),
                ]
            )
            return .created(taskID)
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
    public func cancel(taskID: UUID, userID: UUID) async throws -> Cancellation? {
        try await database.transaction { connection in
            let id = PostgresValue.text(taskID.uuidString)
            guard let row = try connection.query(
                "SELECT status FROM tasks WHERE id = $1 AND user_id = $2 FOR UPDATE", [id, .text(userID.uuidString)]
            ).first, let status = TaskStatus(rawValue: try row.string("status")) else { return nil }
            switch status {
            case .queued, .retrying:
                try connection.query(
                    """
                    UPDATE tasks SET status = 'canceled', cancel_requested_at = now(), finished_at = now(),
                                     next_attempt_at = NULL, updated_at = now()
                    WHERE id = $1
                    """,
                    [id]
                )
                return .canceled
            case .running:
                try connection.query(
                    "UPDATE tasks SET cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now() WHERE id = $1",
                    [id]
                )
                return .requested
            case .canceled:
                return .canceled
            case .succeeded, .failed:
                return .alreadyFinished(status)
            }
        }
    }

    /// The task as its owner sees it, or nil when it does not exist or belongs to someone else.
    public func snapshot(taskID: UUID, userID: UUID) async throws -> TaskSnapshot? {
        let (taskRows, imageRows) = try await database.run { connection -> (PostgresRows, PostgresRows?) in
            let task = try connection.query(
                """
                SELECT t.status, t.attempts, t.max_attempts, t.error_code, t.error_message,
                       \(rfc3339("t.created_at")) AS created_at, \(rfc3339("t.started_at")) AS started_at,
                       \(rfc3339("t.finished_at")) AS finished_at, \(rfc3339("t.next_attempt_at")) AS next_attempt_at,
                       t.cancel_requested_at IS NOT NULL AS cancel_requested, c.amount_micro_usd
                FROM tasks t LEFT JOIN charges c ON c.task_id = t.id
                WHERE t.id = $1 AND t.user_id = $2
                """,
                [.text(taskID.uuidString), .text(userID.uuidString)]
            )
            guard let row = task.first, try row.string("status") == TaskStatus.succeeded.rawValue else { return (task, nil) }
            let images = try connection.query(
                "SELECT media_type, bytes, revised_prompt FROM task_images WHERE task_id = $1 ORDER BY position",
                [.text(taskID.uuidString)],
                binaryResult: true
            )
            return (task, images)
        }
        guard let row = taskRows.first else { return nil }
        guard let status = TaskStatus(rawValue: try row.string("status")) else {
            throw PostgresError(.decoding, "unknown task status")
        }
        let images = try imageRows?.map { image in
            StoredImage(
                mediaType: try image.string("media_type"),
                bytes: try image.optionalBytes("bytes") ?? [],
                revisedPrompt: try image.optionalString("revised_prompt")
            )
        } ?? []
        let error = try row.optionalString("error_code").map { TaskError(code: $0, message: try row.optionalString("error_message") ?? "") }
        return TaskSnapshot(
            taskID: taskID,
            status: status,
            attempts: Int(try row.int("attempts")),
            maxAttempts: Int(try row.int("max_attempts")),
            createdAt: try row.string("created_at"),
            startedAt: try row.optionalString("started_at"),
            finishedAt: try row.optionalString("finished_at"),
            nextAttemptAt: try row.optionalString("next_attempt_at"),
            error: error,
            cancelRequested: try row.bool("cancel_requested"),
            cost: try row.optionalInt("amount_micro_usd").map(MicroDollars.init),
            images: images
        )
    }
}
