import Foundation
import ImagegenCore
import ImagegenQueue
import RedisClient
import Testing

///
/// The queue reads the time from a clock the test moves (`RedisClock.manual`), so leases run
/// out and retries fall due exactly when a test says, however fast the machine is.
@Suite("The Redis queue: enqueue, lease, heartbeat, reap, retry later, acknowledge")
struct TaskQueueTests {
    private let name = TestEnvironment.uniqueQueueName()
    private let clock = RedisClock.manual()

    /// Another handle on the same queue, as another worker process would have.
    private func makeQueue(waitSeconds: Int = 1) throws -> TaskQueue {
        TaskQueue(
            name: name, url: try TestEnvironment.redisURL(), connections: 1, logger: TestEnvironment.logger, waitSeconds: waitSeconds,
            clock: clock
        )
    }

    private func redis() throws -> RedisConnection {
        RedisConnection(url: try TestEnvironment.redisURL(), logger: TestEnvironment.logger)
    }

    private func entry(_ id: UUID = UUID()) -> QueueEntry {
        QueueEntry(taskID: id, attempt: 0, backoff: BackoffPolicy(), runAtMilliseconds: 0, images: 1)
    }

    @Test("enqueuing the same task twice queues it once")
    func enqueueIsIdempotent() async throws {
        let queue = try makeQueue()
        let task = entry()
        #expect(try await queue.enqueue(task))
        #expect(try await queue.enqueue(task) == false)
        #expect(try await queue.depth() == (1, 0, 0))
    }

    @Test("tasks enqueued in one call each say whether they were new; the new ones wait, ready or delayed")
    func enqueueMany() async throws {
        let queue = try makeQueue()
        let earlier = entry()
        try await queue.enqueue(earlier)
        let batch = [entry(), earlier, entry()]
        #expect(try await queue.enqueue(batch) == [true, false, true])
        #expect(try await queue.depth() == (3, 0, 0))
        let leased = try await queue.lease(limit: 10, leaseMilliseconds: 60_000).tasks.map(\.entry.taskID)
        #expect(Set(leased) == Set(batch.map(\.taskID)))
        let delayed = [entry(), entry()]
        #expect(try await queue.enqueue(delayed, delayMilliseconds: 5_000) == [true, true])
        #expect(try await queue.depth() == (0, 2, 3))
    }

    @Test("leasing takes tasks in order, up to the limit, and marks them in flight")
    func leaseInOrder() async throws {
        let queue = try makeQueue()
        let entries = (0..<5).map { _ in entry() }
        for task in entries {
            try await queue.enqueue(task)
            clock.advance(by: .milliseconds(1))
        }
        let leased = try await queue.lease(limit: 3, leaseMilliseconds: 60_000).tasks
        #expect(leased.map(\.entry.taskID) == entries.prefix(3).map(\.taskID))
        #expect(leased.first?.entry == entries.first)
        #expect(try await queue.depth() == (2, 0, 3))
    }

    @Test("a retry waits in the delayed set and becomes ready when due")
    func retryWaitsThenPromotes() async throws {
        let queue = try makeQueue()
        var task = entry()
        try await queue.enqueue(task)
        _ = try await queue.lease(limit: 1, leaseMilliseconds: 60_000)
        task.attempt = 1
        #expect(try await queue.retry(task, delayMilliseconds: 1_500))
        #expect(try await queue.lease(limit: 1, leaseMilliseconds: 60_000).tasks.isEmpty)
        #expect(try await queue.depth() == (0, 1, 0))
        clock.advance(by: .milliseconds(1_499))
        #expect(try await queue.lease(limit: 1, leaseMilliseconds: 60_000).tasks.isEmpty)
        clock.advance(by: .milliseconds(1))
        let batch = try await queue.lease(limit: 1, leaseMilliseconds: 60_000)
        #expect(batch.promoted == 1)
        #expect(batch.tasks.first?.entry.attempt == 1)
    }

    @Test("an expired lease is reaped and the task is leased again by another worker")
    func expiredLeaseIsReaped() async throws {
        let crashed = try makeQueue(), survivor = try makeQueue()
        let task = entry()
        try await crashed.enqueue(task)
        #expect(try await crashed.lease(limit: 1, leaseMilliseconds: 1_000).tasks.count == 1)
        clock.advance(by: .milliseconds(999))
        #expect(try await survivor.lease(limit: 1, leaseMilliseconds: 60_000).tasks.isEmpty)
        #expect(try await survivor.stats().expiredLeases == 0)
        clock.advance(by: .milliseconds(1))
        #expect(try await survivor.stats().expiredLeases == 1)
        let batch = try await survivor.lease(limit: 1, leaseMilliseconds: 60_000)
        #expect(batch.reaped == 1)
        #expect(batch.tasks.map(\.entry.taskID) == [task.taskID])
        // The crashed worker's late calls cannot touch the survivor's lease.
        #expect(try await crashed.acknowledge(taskID: task.taskID) == false)
        #expect(try await crashed.retry(task, delayMilliseconds: 10) == false)
        #expect(try await crashed.handBack(taskID: task.taskID) == false)
        #expect(try await crashed.heartbeat([task], leaseMilliseconds: 60_000) == [task.taskID])
        #expect(try await survivor.depth() == (0, 0, 1))
    }

    @Test("heartbeats keep a lease alive past its first deadline")
    func heartbeatExtendsLease() async throws {
        let worker = try makeQueue(), other = try makeQueue()
        let task = entry()
        try await worker.enqueue(task)
        _ = try await worker.lease(limit: 1, leaseMilliseconds: 1_000)
        for _ in 0..<5 {
            clock.advance(by: .milliseconds(900))
            #expect(try await worker.heartbeat([task], leaseMilliseconds: 1_000).isEmpty)
        }
        // 5.4 s after the lease was taken, 0.9 s after the last heartbeat: still held.
        clock.advance(by: .milliseconds(900))
        #expect(try await other.lease(limit: 1, leaseMilliseconds: 1_000).reaped == 0)
        // Without further heartbeats it runs out one lease after the last.
        clock.advance(by: .milliseconds(100))
        #expect(try await other.lease(limit: 1, leaseMilliseconds: 1_000).reaped == 1)
        #expect(try await worker.acknowledge(taskID: task.taskID) == false)
        #expect(try await other.acknowledge(taskID: task.taskID))
    }

    @Test("after the queue's keys are wiped, a heartbeat claims the running task again")
    func heartbeatReclaimsAfterWipe() async throws {
        let worker = try makeQueue()
        let task = entry()
        try await worker.enqueue(task)
        _ = try await worker.lease(limit: 1, leaseMilliseconds: 60_000)
        try redis().command(["DEL", "imagegen:{\(name)}:inflight", "imagegen:{\(name)}:entries", "imagegen:{\(name)}:leases"])
        #expect(try await worker.missing([task.taskID]) == [task.taskID])
        #expect(try await worker.heartbeat([task], leaseMilliseconds: 60_000).isEmpty)
        #expect(try await worker.missing([task.taskID]).isEmpty)
        #expect(try await worker.depth() == (0, 0, 1))
    }

    @Test("missing finds tasks the queue holds nowhere, including an entry left without a place")
    func missingFindsHoles() async throws {
        let queue = try makeQueue()
        let ready = entry(), delayed = entry(), leased = entry(), orphan = entry(), unknown = entry()
        try await queue.enqueue(leased)
        _ = try await queue.lease(limit: 1, leaseMilliseconds: 60_000)
        try await queue.enqueue(ready)
        try await queue.enqueue(delayed, delayMilliseconds: 60_000)
        try redis().command(["HSET", "imagegen:{\(name)}:entries", orphan.taskID.uuidString, "{}"])
        let missing = try await queue.missing([ready, delayed, leased, orphan, unknown].map(\.taskID))
        #expect(missing == [orphan.taskID, unknown.taskID])
        #expect(try await queue.entry(taskID: orphan.taskID) == nil)
        // Once cleared, the orphan can be enqueued again.
        #expect(try await queue.enqueue(orphan))
    }

    @Test("a handed-back task goes to the front of the ready queue")
    func handBackGoesFirst() async throws {
        let queue = try makeQueue()
        let first = entry(), second = entry()
        try await queue.enqueue(first)
        _ = try await queue.lease(limit: 1, leaseMilliseconds: 60_000)
        try await queue.enqueue(second)
        #expect(try await queue.handBack(taskID: first.taskID))
        #expect(try await queue.lease(limit: 2, leaseMilliseconds: 60_000).tasks.map(\.entry.taskID) == [first.taskID, second.taskID])
    }

    @Test("withdrawing takes a waiting task off the queue but leaves a leased one to its worker")
    func withdrawWaitingOnly() async throws {
        let queue = try makeQueue()
        let leased = entry(), waiting = entry()
        try await queue.enqueue(leased)
        _ = try await queue.lease(limit: 1, leaseMilliseconds: 60_000)
        try await queue.enqueue(waiting, delayMilliseconds: 60_000)
        #expect(try await queue.withdraw(taskID: waiting.taskID))
        #expect(try await queue.withdraw(taskID: leased.taskID) == false)
        #expect(try await queue.depth() == (0, 0, 1))
    }

    @Test("only one worker gets the reconciler's turn at a time, until the turn runs out")
    func reconcilerTurnIsExclusive() async throws {
        // The turn is a key that Redis expires on its own clock: a turn of a minute cannot run out
        // during the test, and a turn of 50 ms is waited for under a generous liveness guard.
        let one = try makeQueue(), two = try makeQueue()
        #expect(try await one.claimReconcilerTurn(milliseconds: 60_000))
        #expect(try await two.claimReconcilerTurn(milliseconds: 60_000) == false)
        #expect(try await one.claimReconcilerTurn(milliseconds: 50) == false)
        let short = TestEnvironment.uniqueQueueName()
        func shortQueue() throws -> TaskQueue {
            TaskQueue(name: short, url: try TestEnvironment.redisURL(), connections: 1, logger: TestEnvironment.logger)
        }
        let three = try shortQueue(), four = try shortQueue()
        #expect(try await three.claimReconcilerTurn(milliseconds: 50))
        let deadline = ContinuousClock.now + .seconds(30)
        while try await four.claimReconcilerTurn(milliseconds: 60_000) == false {
            guard ContinuousClock.now < deadline else {
                Issue.record("a 50 ms turn was still held after 30 s")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await three.claimReconcilerTurn(milliseconds: 60_000) == false)
    }

    @Test("finished tasks leave nothing behind: Redis memory stays flat over thousands of tasks")
    func memoryStaysFlat() async throws {
        // IMAGEGEN_FLAT_TASKS=100000 makes the long run quoted in the README.
        let total = ProcessInfo.processInfo.environment["IMAGEGEN_FLAT_TASKS"].flatMap(Int.init) ?? 5_000
        let queue = try makeQueue()
        let redis = try redis()
        func keys() throws -> [String] {
            try redis.command(["KEYS", "imagegen:{\(name)}:*"]).array.compactMap(\.text).filter { !$0.hasSuffix(":wakeups") }
        }
        func usedMemory() throws -> Int {
            let info = try redis.command(["INFO", "memory"]).text ?? ""
            return info.split(separator: "\r\n").first { $0.hasPrefix("used_memory:") }.flatMap { Int($0.dropFirst(12)) } ?? 0
        }
        let before = try usedMemory()
        var halfway = 0
        for round in 0..<(total / 250) {
            if round == total / 500 { halfway = try usedMemory() }
            for _ in 0..<250 { try await queue.enqueue(entry()) }
            var leased = 0
            while leased < 250 {
                let batch = try await queue.lease(limit: 100, leaseMilliseconds: 60_000).tasks
                for task in batch { #expect(try await queue.acknowledge(taskID: task.entry.taskID)) }
                leased += batch.count
            }
        }
        print("queue memory: \(total) tasks, used_memory before \(before), halfway \(halfway), after \(try usedMemory()) bytes")
        #expect(try keys().isEmpty)
        #expect(try redis.command(["LLEN", "imagegen:{\(name)}:wakeups"]).integer ?? 0 <= 1024)
    }

    @Test("an idle waiter wakes as soon as a task is enqueued, not at the end of its wait")
    func waiterWakesOnEnqueue() async throws {
        // A wait of 60 s: the only thing that can end it within the 30 s guard is the enqueue's wake-up.
        let queue = try makeQueue(waitSeconds: 60)
        let started = ContinuousClock.now
        async let waited: Void = queue.waitForWork()
        try await queue.enqueue(entry())
        try await waited
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(try redis().command(["LLEN", "imagegen:{\(name)}:wakeups"]).integer == 0)
    }
}
