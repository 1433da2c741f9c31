import Foundation
import ImagegenCore
import ImagegenQueue
import RedisClient
import Testing

@Suite("The Redis queue: enqueue, lease, retry later, acknowledge")
struct TaskQueueTests {
    private func makeQueue() throws -> TaskQueue {
        TaskQueue(name: TestEnvironment.uniqueQueueName(), url: try TestEnvironment.redisURL(), connections: 1, logger: TestEnvironment.logger)
    }

    private func entry(_ id: UUID = UUID()) -> QueueEntry {
        QueueEntry(taskID: id, attempt: 0, backoff: BackoffPolicy(), runAtMilliseconds: 0)
    }

    @Test("enqueuing the same task twice queues it once")
    func enqueueIsIdempotent() async throws {
        let queue = try makeQueue()
        let task = entry()
        #expect(try await queue.enqueue(task))
        #expect(try await queue.enqueue(task) == false)
        #expect(try await queue.depth() == (1, 0, 0))
    }

    @Test("leasing takes tasks in order, up to the limit, and marks them in flight")
    func leaseInOrder() async throws {
        let queue = try makeQueue()
        let entries = (0..<5).map { _ in entry() }
        for task in entries { try await queue.enqueue(task) }
        let leased = try await queue.lease(limit: 3, leaseMilliseconds: 60_000)
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
        #expect(try await queue.promoteDueRetries() == 0)
        #expect(try await queue.depth() == (0, 1, 0))
        try await Task.sleep(for: .milliseconds(1_700))
        #expect(try await queue.promoteDueRetries() == 1)
        let leased = try await queue.lease(limit: 1, leaseMilliseconds: 60_000)
        #expect(leased.first?.entry.attempt == 1)
    }

    @Test("retrying a task whose lease is gone does nothing")
    func retryNeedsLease() async throws {
        let queue = try makeQueue()
        let task = entry()
        try await queue.enqueue(task)
        #expect(try await queue.retry(task, delayMilliseconds: 10) == false)
        #expect(try await queue.depth() == (1, 0, 0))
    }

    @Test("acknowledging removes every trace, so finished tasks leave no keys behind")
    func acknowledgeLeavesNothing() async throws {
        let queue = try makeQueue()
        let redis = RedisConnection(url: try TestEnvironment.redisURL(), logger: TestEnvironment.logger)
        let ids = (0..<50).map { _ in UUID() }
        for id in ids { try await queue.enqueue(entry(id)) }
        let leased = try await queue.lease(limit: 100, leaseMilliseconds: 60_000)
        #expect(leased.count == 50)
        for task in leased { try await queue.acknowledge(taskID: task.entry.taskID) }
        // Only the wake-up token list may remain, and it is capped.
        let keys = try redis.command(["KEYS", "imagegen:{\(queue.name)}:*"]).array.compactMap(\.text)
        #expect(keys.allSatisfy { $0.hasSuffix(":wakeups") })
        #expect(try await queue.entry(taskID: ids[0]) == nil)
    }

    @Test("an idle waiter wakes as soon as a task is enqueued")
    func waiterWakesOnEnqueue() async throws {
        let queue = try makeQueue()
        let clock = ContinuousClock()
        let started = clock.now
        async let waited: Void = queue.waitForWork()
        try await Task.sleep(for: .milliseconds(100))
        try await queue.enqueue(entry())
        try await waited
        #expect(clock.now - started < .milliseconds(900))
    }
}
