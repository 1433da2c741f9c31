import Foundation
import ImagegenCore
import ImagegenProvider
import ImagegenProviderGate
import ImagegenStore
import ImagegenWorker
import PostgresClient
import RedisClient
import Testing

/// The ways a task could be paid for twice or lost that no random chaos reliably hits, each
/// made to happen on purpose and checked by the mock provider's count of calls per task.
@Suite("Chaos, on purpose: a rollout, a stalled Redis and hostile answers cost one provider call per task")
struct PaidOnceTests {
    private func row(_ system: RunningSystem, _ taskID: String) async throws -> PostgresRow {
        try await system.database.run { connection in
            try connection.query(
                """
                SELECT t.status, t.attempts, (SELECT count(*) FROM charges c WHERE c.task_id = t.id) AS charges,
                       (SELECT count(*) FROM task_images i WHERE i.task_id = t.id) AS images
                FROM tasks t WHERE t.id = $1
                """,
                [.text(taskID)]
            )
        }.first!
    }

    /// Submits `count` tasks whose provider calls the mock holds until the test releases them.
    private func submitHeld(_ count: Int, named scenario: String, on system: RunningSystem, key: String) async throws -> [String] {
        var taskIDs: [String] = []
        for index in 0..<count {
            let body = #"{"prompt": "\#(scenario) \#(index) [mock:hold]", "model": "dall-e-2", "size": "256x256"}"#
            taskIDs.append(try #require(try await system.submit(key: key, body).json["task_id"] as? String))
        }
        return taskIDs
    }

    /// The scenario's provider calls per prompt.
    private func calls(_ scenario: String, on system: RunningSystem) async throws -> [String: Int] {
        try await system.providerCalls().filter { $0.key.hasPrefix(scenario + " ") }
    }

    /// Makes the tasks' Redis leases lapse, as a stall or a lost renewal would leave them, wakes an idle
    /// worker to lease at once, and waits until a lease call has reaped them.
    private func lapseLeases(of taskIDs: [String], on system: RunningSystem) async throws {
        let redis = RedisConnection(url: system.redisURL, logger: TestEnvironment.logger)
        for taskID in taskIDs {
            #expect(try redis.command(["ZADD", "imagegen:{\(system.queue.name)}:inflight", "XX", "CH", "1", taskID.uppercased()]).integer == 1)
        }
        try redis.command(["LPUSH", "imagegen:{\(system.queue.name)}:wakeups", "1"])
        #expect(try await eventually { try await system.queue.stats().expiredLeases == 0 })
    }

    /// Every task succeeded in one attempt with one charge, and the provider was called once for each; prints the figure.
    private func expectPaidOnce(_ taskIDs: [String], named scenario: String, on system: RunningSystem, key: String) async throws {
        for taskID in taskIDs {
            #expect(try await system.waitForTerminal(taskID: taskID, key: key).json["status"] as? String == "succeeded")
            let row = try await row(system, taskID)
            #expect(try row.int("attempts") == 1)
            #expect(try row.int("charges") == 1)
        }
        let calls = try await calls(scenario, on: system)
        let perTask = Double(calls.values.reduce(0, +)) / Double(taskIDs.count)
        print("\(scenario): provider calls per task \(String(format: "%.2f", perTask)) over \(taskIDs.count) tasks")
        #expect(calls.count == taskIDs.count)
        #expect(calls.values.allSatisfy { $0 == 1 })
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
        let taskIDs = try await submitHeld(4, named: "rolling restart", on: system, key: key)
        #expect(try await eventually { try await calls("rolling restart", on: system).count == 2 })

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
        #expect(try await calls("rolling restart", on: system).count == 2)

        // The calls made before the stop end on their own and are kept; then the worker exits.
        try await system.releaseHeldCalls()
        await running.value
        let next = system.makeWorker(.init(concurrency: 4, leaseMilliseconds: 3_000))
        let again = Task { await next.run() }
        defer { again.cancel() }
        try await expectPaidOnce(taskIDs, named: "rolling restart", on: system, key: key)
    }

    @Test("Redis stalled longer than a lease while calls are in flight: nobody takes over a live task")
    func redisStallPaysOnce() async throws {
        let redis = try await PrivateRedis.start()
        defer { Task { await redis.stop() } }
        // Leases of 5 s, heartbeats every 1.7 s, against a stall of 7 s: every Redis lease lapses during it.
        let options = Worker.Options(concurrency: 4, leaseMilliseconds: 5_000, reconcileInterval: .seconds(1))
        let system = try await RunningSystem.start(worker: options, redisURL: redis.url)
        defer { Task { await system.stop() } }
        let second = system.makeWorker(options)
        let running = Task { await second.run() }
        defer { running.cancel() }
        let (_, key) = try await system.createUser()
        let taskIDs = try await submitHeld(6, named: "Redis stalled past a lease", on: system, key: key)
        #expect(try await eventually { try await calls("Redis stalled past a lease", on: system).count == 6 })

        try await redis.stall(seconds: 7)
        // Once Redis answers again, lapsed leases are renewed or reaped and retaken; a worker that retakes a task
        // finds its heartbeat in PostgreSQL fresh and leaves it to the worker whose call is in flight, which claims it back.
        let queue = system.queue
        #expect(try await eventually {
            let stats = try await queue.stats()
            return stats.inflight == 6 && stats.expiredLeases == 0 && stats.ready == 0
        })
        try await system.releaseHeldCalls()
        try await expectPaidOnce(taskIDs, named: "Redis stalled past a lease", on: system, key: key)
    }

    @Test("a lease that lapses while its worker lives: the worker that retakes the task leaves it to the live one")
    func lapsedLeaseOfALiveWorker() async throws {
        // One worker holds the calls; the test then makes their Redis leases lapse, as a stall or a lost heartbeat
        // would, and wakes a second worker, which reaps and retakes them at once.
        let options = Worker.Options(concurrency: 4, leaseMilliseconds: 5_000, reconcileInterval: .seconds(1))
        let system = try await RunningSystem.start(worker: options)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskIDs = try await submitHeld(4, named: "lease lapsed under a live worker", on: system, key: key)
        #expect(try await eventually { try await calls("lease lapsed under a live worker", on: system).count == 4 })
        let second = system.makeWorker(options)
        let running = Task { await second.run() }
        defer { running.cancel() }
        try await lapseLeases(of: taskIDs, on: system)

        try await system.releaseHeldCalls()
        try await expectPaidOnce(taskIDs, named: "lease lapsed under a live worker", on: system, key: key)
    }

    @Test("a worker that leases its own running task again (its lease lapsed) runs no second attempt and keeps heartbeating")
    func workerReleasesItsOwnTask() async throws {
        let options = Worker.Options(concurrency: 4, leaseMilliseconds: 1_000, reconcileInterval: .milliseconds(300))
        let system = try await RunningSystem.start(worker: options)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskIDs = try await submitHeld(1, named: "a worker leases its own running task again", on: system, key: key)
        let taskID = taskIDs[0]
        #expect(try await eventually { try await calls("a worker leases its own running task again", on: system).count == 1 })
        try await lapseLeases(of: taskIDs, on: system)
        // Long enough for a dropped heartbeat to go stale and the reconciler to hand the task to a second attempt
        // (a lower bound: on a slow machine the test only waits longer).
        try await Task.sleep(for: .seconds(3))
        #expect(try await system.queue.missing([try #require(UUID(uuidString: taskID))]).isEmpty)
        try await system.releaseHeldCalls()
        try await expectPaidOnce(taskIDs, named: "a worker leases its own running task again", on: system, key: key)
    }

    @Test("a paid result whose recording meets a lock timeout is recorded on a later try, not paid again")
    func lockTimeoutWhileRecording() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        // The worker's connections give up on a lock after 200 ms; the test holds the task's row for longer.
        let impatient = Database(
            connectionString: try TestEnvironment.databaseURL() + "?options=-c%20lock_timeout%3D200", connections: 2, logger: TestEnvironment.logger
        )
        let provider = OpenAIImagesProvider(
            client: system.client, baseURL: system.providerBaseURL, apiKeys: ["sk-test"], timeoutMilliseconds: 60_000
        )
        let worker = RunningSystem.makeWorker(
            queue: system.queue, database: impatient, provider: provider, gate: system.gate(keyIDs: provider.keyIDs),
            options: .init(concurrency: 2, leaseMilliseconds: 3_000)
        )
        let running = Task { await worker.run() }
        defer { running.cancel() }
        let (_, key) = try await system.createUser()
        let taskIDs = try await submitHeld(1, named: "lock timeout while recording", on: system, key: key)
        let taskID = taskIDs[0]
        #expect(try await eventually { try await calls("lock timeout while recording", on: system).count == 1 })

        let holder = PostgresConnection(connectionString: try TestEnvironment.databaseURL(), logger: TestEnvironment.logger)
        try holder.query("BEGIN")
        try holder.query("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [.text(taskID)])
        try await system.releaseHeldCalls()
        // Several lock timeouts' worth; the recording keeps trying meanwhile (a lower bound: a slow machine tries fewer times).
        try await Task.sleep(for: .milliseconds(1_500))
        try holder.query("COMMIT")

        try await expectPaidOnce(taskIDs, named: "lock timeout while recording", on: system, key: key)
    }

    @Test("hostile provider answers: the worker lives, and each task succeeds or fails with a clear code, paid once")
    func hostileAnswers() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let cases: [(prompt: String, status: String, code: String?, images: Int64)] = [
            ("retry after inf [mock:429_infx1]", "succeeded", nil, 1),
            ("retry after 1e19 [mock:429_hugex1]", "succeeded", nil, 1),
            ("fifty megabytes [mock:huge_body]", "failed", "response_too_large", 0),
            ("eleven for one [mock:extra_images]", "succeeded", nil, 1),
            ("negative tokens [mock:negative_tokens]", "failed", "malformed_response", 0),
            ("plain after all that", "succeeded", nil, 1),
        ]
        var calls = 0, billed = 0
        for (prompt, status, code, images) in cases {
            let body = #"{"prompt": "\#(prompt)", "model": "dall-e-2", "size": "256x256"}"#
            let taskID = try #require(try await system.submit(key: key, body).json["task_id"] as? String)
            let done = try await system.waitForTerminal(taskID: taskID, key: key)
            #expect(done.json["status"] as? String == status, "\(prompt)")
            #expect((done.json["error"] as? [String: Any])?["code"] as? String == code, "\(prompt)")
            #expect(try await row(system, taskID).int("images") == images, "\(prompt)")
            calls += try await system.providerCalls()[prompt] ?? 0
            billed += try await system.providerBilledCalls()[prompt] ?? 0
        }
        // Each 429 costs one more call, which the provider does not bill; every answer it bills is asked for once.
        print(
            "hostile answers: \(calls) provider calls (2 of them free 429s) and \(billed) billed for \(cases.count) tasks: "
                + "billed calls per task \(String(format: "%.2f", Double(billed) / Double(cases.count)))"
        )
        #expect(calls == cases.count + 2)
        #expect(billed == cases.count)
    }
}

/// A Redis server of one test's own, on a free port, so that it can be stalled without
/// stalling every other test.
private final class PrivateRedis: Sendable {
    let port: Int
    private let server: SpawnedProcess

    var url: RedisURL {
        get throws { try RedisURL(parsing: "redis://127.0.0.1:\(port)/0") }
    }

    private init(port: Int, server: SpawnedProcess) {
        self.port = port
        self.server = server
    }

    /// Starts the server and returns once it answers PING. The waits are async and the PING runs
    /// on a thread of its own: a blocked thread of the Swift concurrency pool (two on this machine)
    /// would stall the in-process servers every other test is talking to.
    static func start() async throws -> PrivateRedis {
        let port = try ChildProcess.freePort()
        let server = try SpawnedProcess("/usr/bin/redis-server", [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--enable-debug-command", "local",
        ], environment: SpawnedProcess.environment([:]))
        let redis = PrivateRedis(port: port, server: server)
        let url = try redis.url
        let deadline = ContinuousClock.now + .seconds(30)
        while await !answersPing(url) {
            guard ContinuousClock.now < deadline else { throw TestEnvironment.Missing(description: "redis-server did not start on \(port)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return redis
    }

    private static func answersPing(_ url: RedisURL) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let connection = RedisConnection(url: url, logger: TestEnvironment.logger)
                continuation.resume(returning: (try? connection.command(["PING"])) != nil)
            }
        }
    }

    /// Makes the server answer nothing for `seconds` (DEBUG SLEEP), and returns once it answers again.
    func stall(seconds: Int) async throws {
        let result = try await ChildProcess.run(
            ["-p", String(port), "DEBUG", "SLEEP", String(seconds)], environment: [:], executable: URL(fileURLWithPath: "/usr/bin/redis-cli")
        )
        guard result.output.contains("OK") else { throw TestEnvironment.Missing(description: "DEBUG SLEEP failed: \(result.output)\(result.error)") }
    }

    /// Stops the server and waits, without blocking a thread, until it has exited.
    func stop() async {
        server.signal(SIGTERM)
        while server.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}
