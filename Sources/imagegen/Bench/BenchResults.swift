import Foundation
import ImagegenCore
import ImagegenStore

/// What the database says about a bench run's tasks.
struct BenchResults {
    let database: Database

    struct Latencies {
        /// From the task's row being created to its final state, in milliseconds.
        let total: Percentiles
        /// From the task's row being created to its first attempt starting.
        let start: Percentiles
        let succeeded: Int
    }

    /// The users the keys belong to, as a PostgreSQL uuid[] literal for the queries below.
    func users(ofKeys keys: [String]) async throws -> String {
        var ids: [String] = []
        for key in keys {
            guard let key = APIKey(presented: key), let holder = try await UserStore(database: database).authenticate(key) else {
                throw StartupFailure(description: "--keys: no user has the API key \(key.prefix(6))… in DATABASE_URL's database")
            }
            ids.append(holder.userID.uuidString)
        }
        return "{" + ids.joined(separator: ",") + "}"
    }

    func databaseNow() async throws -> String {
        try await database.run { try $0.query("SELECT now()::text AS now").first!.string("now") }
    }

    /// Waits until none of the users' tasks created since `since` is unfinished, checking every
    /// 50 ms, and returns when that was seen. Every task was accepted before this is called, so
    /// none unfinished means all finished. Counting the unfinished ones reads the small partial
    /// index of unfinished tasks: the check costs PostgreSQL as little at the end of a long run
    /// as at its start, where counting the finished ones read every task of the run each time.
    func waitForAll(users: String, since: String) async throws -> ContinuousClock.Instant {
        while true {
            let unfinished = try await database.run { connection in
                try connection.query(
                    """
                    SELECT count(*) AS unfinished FROM tasks
                    WHERE status IN ('queued', 'running', 'retrying') AND user_id = ANY($1::uuid[]) AND created_at >= $2
                    """,
                    [.text(users), .text(since)]
                ).first!.int("unfinished")
            }
            if unfinished == 0 { return .now }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func latencies(users: String, since: String) async throws -> Latencies {
        let row = try await database.run { connection in
            try connection.query(
                """
                SELECT \(Self.percentiles("finished_at - created_at", as: "total")),
                       \(Self.percentiles("started_at - created_at", as: "start")),
                       count(*) FILTER (WHERE status = 'succeeded') AS succeeded
                FROM tasks WHERE user_id = ANY($1::uuid[]) AND created_at >= $2
                """,
                [.text(users), .text(since)]
            ).first!
        }
        func read(_ prefix: String) throws -> Percentiles {
            Percentiles(
                p50: Double(try row.string("\(prefix)_p50")) ?? 0, p95: Double(try row.string("\(prefix)_p95")) ?? 0,
                p99: Double(try row.string("\(prefix)_p99")) ?? 0
            )
        }
        return Latencies(total: try read("total"), start: try read("start"), succeeded: Int(try row.int("succeeded")))
    }

    private static func percentiles(_ interval: String, as name: String) -> String {
        ["50", "95", "99"].map { p in
            "(percentile_cont(0.\(p)) WITHIN GROUP (ORDER BY extract(epoch FROM \(interval)) * 1000))::text AS \(name)_p\(p)"
        }.joined(separator: ", ")
    }
}
