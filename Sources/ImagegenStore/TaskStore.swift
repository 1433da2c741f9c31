import Foundation
import ImagegenCore
import PostgresClient

/// Tasks, their images and their charges: every state change of a task happens here.
public struct TaskStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Records a new task as `queued`. The row is committed before the task is enqueued.
    public func create(userID: UUID, request: ImageRequest, unitPrice: MicroDollars, maxAttempts: Int) async throws -> UUID {
        let taskID = UUID()
        try await database.run { connection in
            try connection.query(
                """
                INSERT INTO tasks (id, user_id, status, prompt, model, size, quality, style, n, end_user,
                                   unit_price_micro_usd, max_attempts)
                VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10, $11)
                """,
                [
                    .text(taskID.uuidString), .text(userID.uuidString), .text(request.prompt), .text(request.model),
                    .text(request.size), .text(request.quality), .optional(request.style), .int(request.n),
                    .optional(request.endUser), .int(unitPrice.value), .int(maxAttempts),
                ]
            )
        }
        return taskID
    }

    /// The task as its owner sees it, or nil when it does not exist or belongs to someone else.
    public func snapshot(taskID: UUID, userID: UUID) async throws -> TaskSnapshot? {
        let (taskRows, imageRows) = try await database.run { connection -> (PostgresRows, PostgresRows?) in
            let task = try connection.query(
                """
                SELECT t.status, t.attempts, t.max_attempts, t.error_code, t.error_message,
                       \(rfc3339("t.created_at")) AS created_at, \(rfc3339("t.started_at")) AS started_at,
                       \(rfc3339("t.finished_at")) AS finished_at, \(rfc3339("t.next_attempt_at")) AS next_attempt_at,
                       c.amount_micro_usd
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
            cost: try row.optionalInt("amount_micro_usd").map(MicroDollars.init),
            images: images
        )
    }

    /// Starts the next attempt of a queued or retrying task, or returns nil when the
    /// task is in no state to run (finished, canceled, or already running elsewhere).
    public func beginAttempt(taskID: UUID) async throws -> TaskAttempt? {
        let rows = try await database.run { connection in
            try connection.query(
                """
                UPDATE tasks t
                SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()),
                    next_attempt_at = NULL, updated_at = now()
                WHERE id = $1 AND status IN ('queued', 'retrying')
                RETURNING user_id, prompt, model, size, quality, style, n, end_user, attempts, max_attempts,
                          unit_price_micro_usd,
                          coalesce((SELECT accepts_response_format FROM models m WHERE m.name = t.model), true)
                              AS accepts_response_format
                """,
                [.text(taskID.uuidString)]
            )
        }
        guard let row = rows.first else { return nil }
        return TaskAttempt(
            taskID: taskID,
            userID: UUID(uuidString: try row.string("user_id"))!,
            request: ImageRequest(
                prompt: try row.string("prompt"), model: try row.string("model"), size: try row.string("size"),
                quality: try row.string("quality"), style: try row.optionalString("style"), n: Int(try row.int("n")),
                endUser: try row.optionalString("end_user")
            ),
            attempt: Int(try row.int("attempts")),
            maxAttempts: Int(try row.int("max_attempts")),
            unitPrice: MicroDollars(try row.int("unit_price_micro_usd")),
            acceptsResponseFormat: try row.bool("accepts_response_format")
        )
    }

    /// Stores the images, the charge and `succeeded` in one transaction.
    ///
    /// Returns false, storing nothing, when `attempt` is no longer the task's latest
    /// attempt: a late worker cannot overwrite a newer result or charge again.
    public func complete(_ attempt: TaskAttempt, images: [StoredImage], cost: MicroDollars) async throws -> Bool {
        try await database.transaction { connection in
            let updated = try connection.query(
                """
                UPDATE tasks SET status = 'succeeded', finished_at = now(), updated_at = now(),
                                 error_code = NULL, error_message = NULL
                WHERE id = $1 AND status = 'running' AND attempts = $2
                """,
                [.text(attempt.taskID.uuidString), .int(attempt.attempt)]
            )
            guard updated.affectedRows == 1 else { return false }
            for (position, image) in images.enumerated() {
                try connection.query(
                    "INSERT INTO task_images (task_id, position, media_type, bytes, revised_prompt) VALUES ($1, $2, $3, $4, $5)",
                    [
                        .text(attempt.taskID.uuidString), .int(position), .text(image.mediaType), .bytes(image.bytes),
                        .optional(image.revisedPrompt),
                    ]
                )
            }
            try connection.query(
                """
                INSERT INTO charges (task_id, user_id, attempt, amount_micro_usd, images, model, size, quality)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (task_id) DO NOTHING
                """,
                [
                    .text(attempt.taskID.uuidString), .text(attempt.userID.uuidString), .int(attempt.attempt),
                    .int(cost.value), .int(images.count), .text(attempt.request.model), .text(attempt.request.size),
                    .text(attempt.request.quality),
                ]
            )
            return true
        }
    }

    /// Marks the attempt failed but to be tried again after `delayMilliseconds`.
    public func scheduleRetry(_ attempt: TaskAttempt, delayMilliseconds: Int64, error: TaskError) async throws -> Bool {
        try await database.run { connection in
            try connection.query(
                """
                UPDATE tasks SET status = 'retrying', next_attempt_at = now() + $3 * interval '1 millisecond',
                                 error_code = $4, error_message = $5, updated_at = now()
                WHERE id = $1 AND status = 'running' AND attempts = $2
                """,
                [.text(attempt.taskID.uuidString), .int(attempt.attempt), .int(delayMilliseconds), .text(error.code), .text(error.message)]
            ).affectedRows == 1
        }
    }

    /// Ends the task as `failed` after its latest attempt.
    public func fail(_ attempt: TaskAttempt, error: TaskError) async throws -> Bool {
        try await database.run { connection in
            try connection.query(
                """
                UPDATE tasks SET status = 'failed', finished_at = now(), error_code = $3, error_message = $4, updated_at = now()
                WHERE id = $1 AND status = 'running' AND attempts = $2
                """,
                [.text(attempt.taskID.uuidString), .int(attempt.attempt), .text(error.code), .text(error.message)]
            ).affectedRows == 1
        }
    }

    /// Fails a task that never reached the queue, so that it does not wait forever.
    public func failUnqueued(taskID: UUID, error: TaskError) async throws {
        try await database.run { connection in
            try connection.query(
                """
                UPDATE tasks SET status = 'failed', finished_at = now(), error_code = $2, error_message = $3, updated_at = now()
                WHERE id = $1 AND status = 'queued'
                """,
                [.text(taskID.uuidString), .text(error.code), .text(error.message)]
            )
        }
    }
}
