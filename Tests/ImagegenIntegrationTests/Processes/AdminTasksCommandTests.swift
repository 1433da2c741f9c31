import Foundation
import ImagegenCore
import ImagegenQueue
import ImagegenStore
import Testing

@Suite("imagegen admin tasks and queue: the dead-letter list, retrying a failed task, queue stats")
struct AdminTasksCommandTests {
    @Test("a failed task is listed with its error, retried onto the queue once, and counted in queue stats")
    func deadLetterRoundTrip() async throws {
        let database = try await TestEnvironment.database()
        let queueName = TestEnvironment.uniqueQueueName()
        let environment = [
            "DATABASE_URL": try TestEnvironment.databaseURL(),
            "REDIS_URL": try TestEnvironment.variable("IMAGEGEN_TEST_REDIS_URL"),
            "IMAGEGEN_QUEUE": queueName,
            "RETRY_MAX_ATTEMPTS": "4",
        ]
        let (user, _) = try await UserStore(database: database).createUser(name: "dead-letter")
        let taskID = try await TaskStore(database: database).createTask(userID: user.id, maxAttempts: 1, queue: queueName)
        let attempts = AttemptStore(database: database, takeoverAfter: .zero)
        let attempt = try #require(try await attempts.beginAttempt(taskID: taskID))
        _ = try await attempts.fail(attempt, error: TaskError(code: "provider_unavailable", message: "HTTP 500 five times"), providerMayHaveBilled: false)
        let id = taskID.uuidString.lowercased()

        let list = try await ChildProcess.run(["admin", "tasks", "list", "--status", "failed", "--limit", "1000"], environment: environment)
        #expect(list.status == 0)
        let line = try #require(list.output.split(separator: "\n").first { $0.hasPrefix(id) })
        #expect(line.contains("dead-letter"))
        #expect(line.contains("provider_unavailable: HTTP 500 five times"))

        let retried = try await ChildProcess.run(["admin", "tasks", "retry", id], environment: environment)
        #expect(retried.status == 0)
        #expect(retried.output.contains("queued again with 4 more attempts"))
        let row = try await database.run { connection in
            try connection.query("SELECT status, attempts, max_attempts, error_code FROM tasks WHERE id = $1", [.text(id)])
        }.first!
        #expect(try row.string("status") == "queued")
        #expect(try row.int("max_attempts") == 5)
        #expect(try row.optionalString("error_code") == nil)
        let queue = TaskQueue(name: queueName, url: try TestEnvironment.redisURL(), connections: 1, logger: TestEnvironment.logger)
        #expect(try await queue.entry(taskID: taskID)?.attempt == 1)

        let again = try await ChildProcess.run(["admin", "tasks", "retry", id], environment: environment)
        #expect(again.status != 0)
        #expect(again.error.split(separator: "\n").count == 1)
        #expect(again.error.contains("has not failed"))

        let stats = try await ChildProcess.run(["admin", "queue", "stats"], environment: environment)
        #expect(stats.status == 0)
        let ready = try #require(stats.output.split(separator: "\n").first { $0.hasPrefix("ready") })
        #expect(ready.split(separator: " ").contains("1"))
        let queued = try #require(stats.output.split(separator: "\n").first { $0.hasPrefix("queued in PostgreSQL") })
        #expect(queued.split(separator: " ").contains("1"))
    }

    @Test("bad arguments end with one line and a non-zero exit", arguments: [
        ["admin", "tasks", "list", "--status", "lost"],
        ["admin", "tasks", "list", "--limit", "0"],
        ["admin", "tasks", "retry", "not-a-uuid"],
    ])
    func badArguments(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run(arguments, environment: ["DATABASE_URL": try TestEnvironment.databaseURL()])
        #expect(result.status != 0)
        #expect(result.error.split(separator: "\n").first?.hasPrefix("Error: ") == true)
    }
}
