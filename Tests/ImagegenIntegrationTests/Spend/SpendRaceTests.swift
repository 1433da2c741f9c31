import Foundation
import ImagegenCore
import ImagegenStore
import Testing

@Suite("Spend limits under concurrency: several worker processes race for one user's budget")
struct SpendRaceTests {
    @Test("a limit for exactly k images, 20×k tasks and 4 worker processes: exactly k succeed, the rest fail unpaid")
    func nobodyOutrunsTheLimit() async throws {
        let k = 5
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser(name: "racer")
        try await UserStore(database: system.database).setLimits(userID: user.id, UserLimits(dailySpend: MicroDollars(40_000) * k))
        var taskIDs: [String] = []
        for index in 0..<(20 * k) {
            taskIDs.append(try #require(try await system.submit(key: key, #"{"prompt": "race \#(index)"}"#).json["task_id"] as? String))
        }
        let environment = [
            "DATABASE_URL": try TestEnvironment.databaseURL(),
            "REDIS_URL": try TestEnvironment.variable("IMAGEGEN_TEST_REDIS_URL"),
            "IMAGEGEN_QUEUE": system.queue.name,
            "OPENAI_BASE_URL": system.providerBaseURL,
            "OPENAI_API_KEY": "sk-race",
        ]
        let workers = try (0..<4).map { _ in try ChildProcess(["worker", "--concurrency", "25"], environment: environment) }
        for taskID in taskIDs {
            _ = try await system.waitForTerminal(taskID: taskID, key: key, timeout: .seconds(60))
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
        print("spend race: k=\(k), tasks=\(20 * k), 4 workers × 25: \(outcomes.sorted { $0.key < $1.key })")
        #expect(outcomes["succeeded:"] == Int64(k))
        #expect(outcomes["failed:spend_limit_exceeded"] == Int64(19 * k))
        #expect(try rows.map { try $0.int("charged") }.reduce(0, +) == 40_000 * Int64(k))
        let usage = try await SpendStore(database: system.database, policy: SpendPolicy()).usage(userID: user.id)
        #expect(usage.day.spent == MicroDollars(40_000) * k)
        #expect(usage.day.reserved == .zero)
    }
}
