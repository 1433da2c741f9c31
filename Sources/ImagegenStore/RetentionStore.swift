import Foundation
import PostgresClient

/// Deletes the image bytes of tasks that finished before a cutoff. Tasks and charges
/// stay, so statuses and cost reports stay right; a purged task says when it was purged.
public struct RetentionStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// What one purge deleted.
    public struct Purge: Sendable, Equatable {
        public var tasks = 0
        public var images = 0
        public var bytes: Int64 = 0
    }

    /// Purges the images of every task that succeeded before `cutoff`, `batchSize` tasks
    /// per transaction so that a first purge of a large backlog never holds long locks.
    public func purgeImages(finishedBefore cutoff: Date, batchSize: Int = 500) async throws -> Purge {
        var total = Purge()
        while true {
            let batch = try await database.transaction { connection in
                try connection.query(
                    """
                    WITH purged AS (
                        UPDATE tasks SET images_purged_at = now(), updated_at = now()
                        WHERE id IN (
                            SELECT id FROM tasks
                            WHERE status = 'succeeded' AND images_purged_at IS NULL
                              AND finished_at < 'epoch'::timestamptz + $1::bigint * interval '1 millisecond'
                            LIMIT $2 FOR UPDATE SKIP LOCKED
                        )
                        RETURNING id
                    ), deleted AS (
                        DELETE FROM task_images i USING purged WHERE i.task_id = purged.id RETURNING octet_length(i.bytes) AS size
                    ), drafts AS (
                        -- Streamed drafts of every task that ended before the cutoff, whatever its end.
                        DELETE FROM task_partial_images p USING tasks t
                        WHERE p.task_id = t.id AND t.finished_at < 'epoch'::timestamptz + $1::bigint * interval '1 millisecond'
                    )
                    SELECT (SELECT count(*) FROM purged) AS tasks, count(*) AS images, coalesce(sum(size), 0)::bigint AS bytes
                    FROM deleted
                    """,
                    [.int(Int64(cutoff.timeIntervalSince1970 * 1000)), .int(batchSize)]
                )
            }
            guard let row = batch.first else { return total }
            let tasks = Int(try row.int("tasks"))
            total.tasks += tasks
            total.images += Int(try row.int("images"))
            total.bytes += try row.int("bytes")
            if tasks < batchSize { return total }
        }
    }
}
