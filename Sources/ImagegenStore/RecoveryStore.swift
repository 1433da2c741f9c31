import Foundation
import ImagegenCore
import PostgresClient

/// A task PostgreSQL says is not finished, as the reconciler sees it.
public struct UnfinishedTask: Sendable, Equatable {
    public let taskID: UUID
    public let status: TaskStatus
    public let attempts: Int
    public let images: Int
    /// For a retrying task: how long until its next attempt is due.
    public let dueInMilliseconds: Int64
    /// For a running task: no worker has reported on it for longer than a lease.
    public let heartbeatStale: Bool
}

/// The reconciler's queries: PostgreSQL is the truth about which tasks still need to run.
public struct RecoveryStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// One page of `queue`'s unfinished tasks, by id after `cursor`, leaving out tasks changed
    /// in the last `settleMilliseconds` (their enqueue or lease may still be on its way).
    public func unfinished(
        queue: String, after cursor: UUID?, limit: Int, settleMilliseconds: Int64, staleAfterMilliseconds: Int64
    ) async throws -> [UnfinishedTask] {
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT id, status, attempts, n,
                       greatest(0, ceil(extract(epoch FROM next_attempt_at - now()) * 1000))::bigint AS due_in_ms,
                       coalesce(heartbeat_at, updated_at) < now() - $4 * interval '1 millisecond' AS stale
                FROM tasks
                WHERE status IN ('queued', 'running', 'retrying') AND queue = $5 AND id > $1
                  AND updated_at < now() - $2 * interval '1 millisecond'
                ORDER BY id LIMIT $3
                """,
                [
                    .text((cursor ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))).uuidString),
                    .int(settleMilliseconds), .int(limit), .int(staleAfterMilliseconds), .text(queue),
                ]
            )
        }
        return try rows.map { row in
            UnfinishedTask(
                taskID: UUID(uuidString: try row.string("id"))!,
                status: TaskStatus(rawValue: try row.string("status")) ?? .queued,
                attempts: Int(try row.int("attempts")),
                images: Int(try row.int("n")),
                dueInMilliseconds: try row.optionalInt("due_in_ms") ?? 0,
                heartbeatStale: try row.bool("stale")
            )
        }
    }

    /// Those of `taskIDs` that are still queued, running or retrying.
    public func stillUnfinished(_ taskIDs: [UUID]) async throws -> Set<UUID> {
        let rows = try await database.run { connection in
            try connection.query(
                "SELECT id FROM tasks WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'running', 'retrying')",
                [.text("{" + taskIDs.map(\.uuidString).joined(separator: ",") + "}")]
            )
        }
        return Set(try rows.map { UUID(uuidString: try $0.string("id"))! })
    }

    /// Fails `queue`'s waiting tasks (queued or retrying) that are past their deadline as
    /// `expired`, and returns their ids so that they can be taken off the queue. A task held
    /// by a worker finds itself ended when its attempt would start.
    public func expireOverdue(queue: String, limit: Int) async throws -> [UUID] {
        try await database.run { connection in
            try connection.query(
                """
                UPDATE tasks SET status = 'failed', finished_at = now(), next_attempt_at = NULL,
                                 error_code = $3, error_message = $4, updated_at = now()
                WHERE id IN (
                    SELECT id FROM tasks
                    WHERE status IN (\(TaskLifecycle.waiting.sqlList)) AND deadline_at < now() AND queue = $1
                    ORDER BY deadline_at LIMIT $2 FOR UPDATE SKIP LOCKED
                )
                RETURNING id
                """,
                [.text(queue), .int(limit), .text(TaskError.expired.code), .text(TaskError.expired.message)]
            )
        }.map { UUID(uuidString: try $0.string("id"))! }
    }

    /// Forgets idempotency keys older than their lifetime; returns how many.
    @discardableResult
    public func purgeExpiredIdempotencyKeys() async throws -> Int {
        try await database.run { connection in
            try connection.query(
                "DELETE FROM idempotency_keys WHERE created_at < now() - $1 * interval '1 hour'",
                [.int(TaskStore.idempotencyKeyLifetimeHours)]
            ).affectedRows
        }
    }
}
