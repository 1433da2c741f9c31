import Foundation
import ImagegenCore
import ImagegenQueue
import ImagegenStore
import ImagegenWorker
import RedisClient
import Testing

@Suite("The reconciler re-enqueues what PostgreSQL says is unfinished and Redis does not hold")
struct ReconcilerTests {
    private struct Fixture {
        let database: Database
        let queue: TaskQueue
        let tasks: TaskStore
        let attempts: AttemptStore
        let reconciler: Reconciler
        let userID: UUID

        func newTask() async throws -> UUID {
            try await tasks.createTask(userID: userID, queue: queue.name)
        }
    }

    private func fixture(leaseMilliseconds: Int64 = 60_000) async throws -> Fixture {
        let database = try await TestEnvironment.database()
        let queue = TaskQueue(
            name: TestEnvironment.uniqueQueueName(), url: try TestEnvironment.redisURL(), connections: 1, logger: TestEnvironment.logger
        )
        let (user, _) = try await UserStore(database: database).createUser(name: "reconcile")
        return Fixture(
            database: database, queue: queue, tasks: TaskStore(database: database), attempts: AttemptStore(database: database, takeoverAfter: .zero),
            reconciler: Reconciler(
                queue: queue, recovery: RecoveryStore(database: database), backoff: BackoffPolicy(),
                leaseMilliseconds: leaseMilliseconds, settleMilliseconds: 0, logger: TestEnvironment.logger
            ),
            userID: user.id
        )
    }

    @Test("a queued task that never reached Redis is enqueued; one already queued is left alone")
    func enqueuesWhatWasNeverQueued() async throws {
        let f = try await fixture()
        let lost = try await f.newTask()
        let queued = try await f.newTask()
        try await f.queue.enqueue(QueueEntry(taskID: queued, attempt: 0, backoff: BackoffPolicy(), runAtMilliseconds: 0, images: 1))

        #expect(try await f.reconciler.reconcile() == 1)
        #expect(try await f.queue.missing([lost, queued]).isEmpty)
        #expect(try await f.queue.depth() == (2, 0, 0))
        #expect(try await f.reconciler.reconcile() == 0)
    }

    @Test("after the queue is wiped, a retrying task waits in the delayed set until its next attempt is due")
    func retryingTaskKeepsItsDueTime() async throws {
        let f = try await fixture()
        let taskID = try await f.newTask()
        let attempt = try #require(try await f.attempts.beginAttempt(taskID: taskID))
        _ = try await f.attempts.scheduleRetry(attempt, delayMilliseconds: 60_000, error: TaskError(code: "rate_limited", message: "429"), providerMayHaveBilled: false)

        #expect(try await f.reconciler.reconcile() == 1)
        #expect(try await f.queue.depth() == (0, 1, 0))
        #expect(try await f.queue.entry(taskID: taskID)?.attempt == 1)
    }

    @Test("a waiting task past its deadline fails as expired and leaves the queue; one within it stays")
    func overdueTasksExpire() async throws {
        let f = try await fixture()
        let overdue = try await f.newTask(), onTime = try await f.newTask()
        let attempt = try #require(try await f.attempts.beginAttempt(taskID: overdue))
        _ = try await f.attempts.scheduleRetry(attempt, delayMilliseconds: 60_000, error: TaskError(code: "rate_limited", message: "429"), providerMayHaveBilled: false)
        #expect(try await f.reconciler.reconcile() == 2)
        #expect(try await f.queue.depth() == (1, 1, 0))
        try await f.database.run { connection in
            try connection.query("UPDATE tasks SET deadline_at = now() - interval '1 second' WHERE id = $1", [.text(overdue.uuidString)])
        }
        try await f.reconciler.expireOverdue()
        #expect(try await f.queue.depth() == (1, 0, 0))
        let rows = try await f.database.run { connection in
            try connection.query("SELECT id, status, error_code FROM tasks WHERE id = ANY($1::uuid[]) ORDER BY id", [
                .text("{\(overdue.uuidString),\(onTime.uuidString)}"),
            ])
        }
        let outcomes = try Dictionary(uniqueKeysWithValues: rows.map { row in
            (try row.string("id").uppercased(), "\(try row.string("status")) \(try row.optionalString("error_code") ?? "-")")
        })
        #expect(outcomes[overdue.uuidString] == "failed expired")
        #expect(outcomes[onTime.uuidString] == "queued -")
    }

    @Test("a running task is re-enqueued only once its heartbeat is older than a lease")
    func runningTaskNeedsStaleHeartbeat() async throws {
        let f = try await fixture(leaseMilliseconds: 60_000)
        let taskID = try await f.newTask()
        _ = try #require(try await f.attempts.beginAttempt(taskID: taskID))

        #expect(try await f.reconciler.reconcile() == 0)
        // The worker went silent two lease lengths ago.
        try await f.database.run { connection in
            try connection.query(
                "UPDATE tasks SET heartbeat_at = now() - interval '2 minutes', updated_at = now() - interval '2 minutes' WHERE id = $1",
                [.text(taskID.uuidString)]
            )
        }
        #expect(try await f.reconciler.reconcile() == 1)
        #expect(try await f.queue.depth() == (1, 0, 0))
    }

    @Test("tasks of other queues are not touched")
    func staysInItsQueue() async throws {
        let f = try await fixture()
        _ = try await f.tasks.createTask(userID: f.userID, queue: "another-queue-\(UUID().uuidString.prefix(6))")
        #expect(try await f.reconciler.reconcile() == 0)
    }

    @Test("a whole system recovers when its queue keys vanish: every task still succeeds")
    func systemRecoversFromWipe() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        var taskIDs: [String] = []
        for index in 0..<10 {
            taskIDs.append(try #require(try await system.submit(key: key, #"{"prompt": "wiped \#(index)"}"#).json["task_id"] as? String))
        }
        // The API enqueues after its 202: wipe once all ten are on the queue, or a late enqueue refills it.
        let queue = system.queue
        #expect(try await eventually { try await queue.depth().ready == 10 })
        let redis = RedisConnection(url: try TestEnvironment.redisURL(), logger: TestEnvironment.logger)
        let keys = try redis.command(["KEYS", "imagegen:{\(system.queue.name)}:*"]).array.compactMap(\.text)
        try redis.command(["DEL"] + keys)
        #expect(try await system.queue.depth() == (0, 0, 0))

        let worker = system.makeWorker(.init(concurrency: 4, leaseMilliseconds: 3_000, reconcileInterval: .milliseconds(300)))
        let running = Task { await worker.run() }
        defer { running.cancel() }
        for taskID in taskIDs {
            #expect(try await system.waitForTerminal(taskID: taskID, key: key).json["status"] as? String == "succeeded")
        }
    }
}
