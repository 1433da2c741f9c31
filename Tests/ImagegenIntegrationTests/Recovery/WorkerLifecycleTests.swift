import Foundation
import ImagegenCore
import ImagegenProviderGate
import ImagegenQueue
import ImagegenStore
import ImagegenWorker
import MockProvider
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
        #expect(try await dead.lease(limit: 1, leaseMilliseconds: 1_000).tasks.count == 1)
        _ = try #require(try await AttemptStore(database: system.database).beginAttempt(taskID: UUID(uuidString: taskID)!))

        let worker = system.makeWorker(.init(concurrency: 2, leaseMilliseconds: 1_000, reconcileInterval: .seconds(1)))
        let running = Task { await worker.run() }
        defer { running.cancel() }
        #expect(try await system.waitForTerminal(taskID: taskID, key: key).json["status"] as? String == "succeeded")
        let row = try await row(system, taskID)
        #expect(try row.int("attempts") == 2)
        #expect(try row.int("charges") == 1)
        #expect(try await system.queue.depth() == (0, 0, 0))
    }

    @Test("on shutdown, attempts that finish within the grace period are stored normally")
    func gracefulShutdownFinishesAttempts() async throws {
        // A grace far longer than the calls, so that only a broken shutdown leaves one unfinished.
        var plan = FaultPlan()
        plan.latencyMilliseconds = 1_500
        let system = try await RunningSystem.start(plan: plan, worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let worker = system.makeWorker(.init(concurrency: 4, leaseMilliseconds: 3_000, shutdownGrace: .seconds(60)))
        let running = Task { await worker.run() }
        var taskIDs: [String] = []
        for index in 0..<3 {
            taskIDs.append(try #require(try await system.submit(key: key, #"{"prompt": "finish me \#(index)"}"#).json["task_id"] as? String))
        }
        for taskID in taskIDs { try await system.waitForStatus(.running, taskID: taskID, key: key) }
        worker.shutdown()
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

    @Test("a stopping worker starts no provider call: tasks at the gate go back at once, calls made finish, each task is paid once")
    func rollingRestartPaysOnce() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        // Two images now, then one a minute: two calls go out (the mock holds them), two tasks wait at the gate.
        let stopping = system.makeWorker(
            .init(concurrency: 4, leaseMilliseconds: 3_000, shutdownGrace: .seconds(600)), gate: GateSettings(imagesPerMinute: 1, burstImages: 2)
        )
        let running = Task { await stopping.run() }
        var taskIDs: [String] = []
        for index in 0..<4 {
            let body = #"{"prompt": "rollout \#(index) [mock:hold]", "model": "dall-e-2", "size": "256x256"}"#
            taskIDs.append(try #require(try await system.submit(key: key, body).json["task_id"] as? String))
        }
        #expect(try await eventually { try await system.providerCalls().values.reduce(0, +) == 2 })

        stopping.shutdown()
        // The two waiting at the gate go back to the queue unstarted, while the two calls are still held.
        #expect(try await eventually { try await system.queue.depth().ready == 2 })
        var statuses: [String: Int] = [:]
        for taskID in taskIDs {
            let row = try await row(system, taskID)
            statuses[try row.string("status"), default: 0] += 1
            if try row.string("status") == "queued" { #expect(try row.int("attempts") == 0) }
        }
        #expect(statuses == ["running": 2, "queued": 2])
        #expect(try await system.providerCalls().values.reduce(0, +) == 2)

        // The calls made before the stop end on their own and are kept; then the worker exits.
        try await system.releaseHeldCalls()
        await running.value
        let next = system.makeWorker(.init(concurrency: 4, leaseMilliseconds: 3_000))
        let again = Task { await next.run() }
        defer { again.cancel() }
        for taskID in taskIDs {
            #expect(try await system.waitForTerminal(taskID: taskID, key: key).json["status"] as? String == "succeeded")
            #expect(try await row(system, taskID).int("charges") == 1)
        }
        let calls = try await system.providerCalls().filter { $0.key.hasPrefix("rollout ") }
        let perTask = Double(calls.values.reduce(0, +)) / Double(taskIDs.count)
        print("rolling restart: provider calls per task \(String(format: "%.2f", perTask)) over \(taskIDs.count) tasks")
        #expect(calls.count == 4)
        #expect(calls.values.allSatisfy { $0 == 1 })
    }

    /// Polls `condition` until it holds; false after `timeout`, a liveness guard.
    private func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
