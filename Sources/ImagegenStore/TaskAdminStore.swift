import Foundation
import ImagegenCore
import PostgresClient

/// One line of `imagegen admin tasks list`.
public struct TaskSummary: Sendable {
    public let taskID: UUID
    public let userName: String
    public let status: TaskStatus
    public let model: String
    public let attempts: Int
    public let error: TaskError?
    public let updatedAt: String
}

/// How many tasks wait in one unfinished status, and the age of the oldest.
public struct StatusCount: Sendable, Equatable {
    public let status: TaskStatus
    public let count: Int
    public let oldestAgeSeconds: Int64
}

/// How many tasks are in `status` (retrying or failed) with `code` as their last error.
public struct ProblemCount: Sendable, Equatable {
    public let status: TaskStatus
    public let code: String
    public let count: Int
}

/// Operators' view of tasks: the dead-letter list and putting a failed task back.
public struct TaskAdminStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The most recently changed tasks, optionally only those in `status` and only those of `queue`.
    public func list(status: TaskStatus?, queue: String? = nil, limit: Int) async throws -> [TaskSummary] {
        try await summaries(
            where: "($1::text IS NULL OR t.status = $1) AND ($3::text IS NULL OR t.queue = $3)",
            [.optional(status?.rawValue), .int(limit), .optional(queue)]
        )
    }

    /// One task of any user, or nil when there is none with this id.
    public func summary(taskID: UUID) async throws -> TaskSummary? {
        try await summaries(where: "t.id = $1", [.text(taskID.uuidString), .int(1)]).first
    }

    /// `queue`'s tasks retrying now and failed in the last `hours`, counted by their last error's code.
    public func problemCounts(queue: String, hours: Int = 24) async throws -> [ProblemCount] {
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT status, coalesce(error_code, 'unknown') AS code, count(*) AS count FROM tasks
                WHERE queue = $1 AND (status = 'retrying' OR (status = 'failed' AND updated_at > now() - $2 * interval '1 hour'))
                GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
                """,
                [.text(queue), .int(hours)]
            )
        }
        return try rows.map { row in
            ProblemCount(status: TaskStatus(rawValue: try row.string("status")) ?? .failed, code: try row.string("code"), count: Int(try row.int("count")))
        }
    }

    /// `condition` on `tasks t` with `$1` (and `$3`); `$2` is the most rows returned.
    private func summaries(where condition: String, _ parameters: [PostgresValue]) async throws -> [TaskSummary] {
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT t.id, u.name, t.status, t.model, t.attempts, t.error_code, t.error_message,
                       \(rfc3339("t.updated_at")) AS updated_at
                FROM tasks t JOIN users u ON u.id = t.user_id
                WHERE \(condition)
                ORDER BY t.updated_at DESC LIMIT $2
                """,
                parameters
            )
        }
        return try rows.map { row in
            TaskSummary(
                taskID: UUID(uuidString: try row.string("id"))!,
                userName: try row.string("name"),
                status: TaskStatus(rawValue: try row.string("status")) ?? .failed,
                model: try row.string("model"),
                attempts: Int(try row.int("attempts")),
                error: try row.optionalString("error_code").map { TaskError(code: $0, message: try row.optionalString("error_message") ?? "") },
                updatedAt: try row.string("updated_at")
            )
        }
    }

    /// Puts a failed task back to `queued` with `extraAttempts` more attempts; returns the
    /// attempts it has used and its queue, or nil when the task is not failed. Attempt
    /// numbers keep growing, so results of the earlier attempts stay fenced off.
    public func requeueFailed(taskID: UUID, extraAttempts: Int) async throws -> (attempts: Int, queue: String, images: Int)? {
        try await database.run { connection in
            try connection.query(
                """
                UPDATE tasks SET status = 'queued', max_attempts = attempts + $2, error_code = NULL, error_message = NULL,
                                 finished_at = NULL, next_attempt_at = NULL, updated_at = now()
                WHERE id = $1 AND status IN (\(TaskLifecycle.requeueable.sqlList))
                RETURNING attempts, queue, n
                """,
                [.text(taskID.uuidString), .int(extraAttempts)]
            ).first.map { (Int(try $0.int("attempts")), try $0.string("queue"), Int(try $0.int("n"))) }
        }
    }

    /// Counts of `queue`'s unfinished tasks by status, with the age of the oldest in each.
    public func unfinishedCounts(queue: String) async throws -> [StatusCount] {
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT status, count(*) AS count, floor(extract(epoch FROM now() - min(created_at)))::bigint AS oldest
                FROM tasks WHERE status IN ('queued', 'running', 'retrying') AND queue = $1 GROUP BY status ORDER BY status
                """,
                [.text(queue)]
            )
        }
        return try rows.map { row in
            StatusCount(
                status: TaskStatus(rawValue: try row.string("status")) ?? .queued,
                count: Int(try row.int("count")),
                oldestAgeSeconds: try row.int("oldest")
            )
        }
    }
}
