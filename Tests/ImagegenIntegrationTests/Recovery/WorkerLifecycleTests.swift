import Foundation
import ImagegenCore
import ImagegenQueue
import ImagegenStore
import ImagegenWorker
import PostgresClient
import Testing

@Suite("Workers that die or stop: leases run out, attempts are handed back, nothing is lost or paid twice")
struct WorkerLifecycleTests {
    private func row(_ system: RunningSystem, _ taskID: String) async throws -> PostgresRow {
        try await system.database.run { connection in
            try connection.query(
                """
                SELECT t.status, t.attempts, t.max_attempts, (SELECT count(*) FROM charges c WHERE c.task_id = t.id) AS charges
                FROM tasks t WHERE t.id = $1
                """,
                [.text(taskID)]
            )
        }.first!
    }

    @Test("a task whose worker died mid-attempt is finished by another worker once the lease runs out")
    func deadWorkersTaskIsRedelivered() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "orphaned"}"#).json["task_id"] as? String)

        // The "dead" worker: it leases the task and starts an attempt, then never speaks again.
        let dead = TaskQueue(name: system.queue.name, url: try TestEnvironment.redisURL(), connections: 1, logger: TestEnvironment.logger)
        #expect(try await eventually { try await system.queue.depth().ready == 1 })
        #expect(try await dead.lease(limit: 1, leaseMilliseconds: 1_000).tasks.count == 1)
        _ = try #require(try await AttemptStore(database: system.database, takeoverAfter: .zero).beginAttempt(taskID: UUID(uuidString: taskID)!))

        let worker = system.makeWorker(.init(concurrency: 2, leaseMilliseconds: 1_000, reconcileInterval: .seconds(1)))
        let running = Task { await worker.run() }
        defer { running.cancel() }
        #expect(try await system.waitForTerminal(taskID: taskID, key: key).json["status"] as? String == "succeeded")
        let row = try await row(system, taskID)
        #expect(try row.int("attempts") == 2)
        #expect(try row.int("charges") == 1)
        // The worker acknowledges in Redis just after it commits the outcome the poll saw.
        #expect(try await eventually { try await system.queue.depth() == (0, 0, 0) })
    }

    @Test("on shutdown, attempts that finish within the grace period are stored normally")
    func gracefulShutdownFinishesAttempts() async throws {
        // The mock holds the calls until the worker has been told to stop; the grace is far longer than the test.
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let worker = system.makeWorker(.init(concurrency: 4, leaseMilliseconds: 3_000, shutdownGrace: .seconds(600)))
        let running = Task { await worker.run() }
        var taskIDs: [String] = []
        for index in 0..<3 {
            let body = #"{"prompt": "finish me \#(index) [mock:hold]"}"#
            taskIDs.append(try #require(try await system.submit(key: key, body).json["task_id"] as? String))
        }
        // Stop once the mock holds all three calls: a task merely marked running may not have
        // called yet, and a stop before its call hands it back instead.
        #expect(try await eventually { try await system.providerCalls().filter { $0.key.hasPrefix("finish me") }.count == 3 })
        worker.shutdown()
        try await system.releaseHeldCalls()
        await running.value
        for taskID in taskIDs {
            #expect(try await row(system, taskID).string("status") == "succeeded")
        }
    }

    @Test("attempts still running when the grace period ends are handed back, not failed, and run again later")
    func graceExpiryHandsBack() async throws {
        // The first call hangs against a grace of 0.3 s: the worker cannot finish it, whatever the machine's speed.
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let worker = system.makeWorker(.init(concurrency: 4, leaseMilliseconds: 3_000, shutdownGrace: .milliseconds(300)))
        let running = Task { await worker.run() }
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "too slow [mock:hangx1]"}"#).json["task_id"] as? String)
        try await system.waitForStatus(.running, taskID: taskID, key: key)

        let stopping = ContinuousClock.now
        worker.shutdown()
        await running.value
        #expect(ContinuousClock.now - stopping < .seconds(30), "shutdown waited for the call instead of its grace")
        let row = try await row(system, taskID)
        #expect(try row.string("status") == "queued")
        #expect(try row.int("max_attempts") == 4)
        #expect(try await system.queue.depth() == (1, 0, 0))

        let next = system.makeWorker(.init(concurrency: 1, leaseMilliseconds: 3_000))
        let again = Task { await next.run() }
        defer { again.cancel() }
        #expect(try await system.waitForTerminal(taskID: taskID, key: key).json["status"] as? String == "succeeded")
        #expect(try await self.row(system, taskID).int("attempts") == 2)
    }
}
