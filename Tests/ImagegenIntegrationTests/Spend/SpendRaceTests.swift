import Foundation
import ImagegenCore
import ImagegenStore
import Testing

@Suite("Spend limits under concurrency: several worker processes race for one user's budget")
struct SpendRaceTests {
    @Test("a limit for exactly k images, 20×k tasks and 4 worker processes: exactly k succeed, the rest fail unpaid")
    func nobodyOutrunsTheLimit() async throws {
        try await race(room: 5, tasks: 100, workers: 4, concurrency: 25)
    }

    /// Workers start and finish attempts in batches: here each batch holds many tasks of the
    /// one user, from four processes at once, and the counters' greedy check decides inside it.
    @Test("a hot tenant: 1,000 tasks of one user, 4 worker processes × 100 starting them in batches: exactly the room succeeds")
    func batchesOfOneTenantHoldTheLimit() async throws {
        try await race(room: 37, tasks: 1_000, workers: 4, concurrency: 100)
    }

    /// `room` images of dall-e-2 at 0.04 USD fit the user's daily spend limit; `tasks` tasks race for them.
    private func race(room k: Int, tasks: Int, workers count: Int, concurrency: Int) async throws {
        let price = MicroDollars(40_000)
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser(name: "racer")
        try await UserStore(database: system.database).setLimits(userID: user.id, UserLimits(dailySpend: price * k))
        var taskIDs: [String] = []
        for index in 0..<tasks {
            taskIDs.append(try #require(try await system.submit(key: key, #"{"prompt": "race \#(index)"}"#).json["task_id"] as? String))
        }
        let environment = [
            "DATABASE_URL": try TestEnvironment.databaseURL(),
            "REDIS_URL": try TestEnvironment.variable("IMAGEGEN_TEST_REDIS_URL"),
            "IMAGEGEN_QUEUE": system.queue.name,
            "OPENAI_BASE_URL": system.providerBaseURL,
            "OPENAI_API_KEY": "sk-race",
        ]
        let workers = try (0..<count).map { _ in
            try ChildProcess(["worker", "--concurrency", String(concurrency)], environment: environment)
        }
        for taskID in taskIDs {
            _ = try await system.waitForTerminal(taskID: taskID, key: key, timeout: .seconds(120))
        }
        for worker in workers { _ = await worker.terminate() }

        let rows = try await system.database.run { connection in
            try connection.query(
                """
                SELECT t.status, t.error_code, count(*) AS tasks, coalesce(sum(c.amount_micro_usd), 0) AS charged
                FROM tasks t LEFT JOIN charges c ON c.task_id = t.id
                WHERE t.user_id = $1 GROUP BY 1, 2
                """,
                [.text(user.id.uuidString)]
            )
        }
        let outcomes = Dictionary(uniqueKeysWithValues: try rows.map { ("\(try $0.string("status")):\(try $0.optionalString("error_code") ?? "")", try $0.int("tasks")) })
        print("spend race: k=\(k), tasks=\(tasks), \(count) workers × \(concurrency): \(outcomes.sorted { $0.key < $1.key })")
        #expect(outcomes["succeeded:"] == Int64(k))
        #expect(outcomes["failed:spend_limit_exceeded"] == Int64(tasks - k))
        #expect(try rows.map { try $0.int("charged") }.reduce(0, +) == price.value * Int64(k))
        let usage = try await SpendStore(database: system.database, policy: SpendPolicy()).usage(userID: user.id)
        #expect(usage.day.spent == price * k)
        #expect(usage.day.reserved == .zero)
        let open = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS open FROM reservations WHERE user_id = $1 AND state = 'reserved'", [.text(user.id.uuidString)])
        }
        #expect(try open.first?.int("open") == 0)
    }
}
