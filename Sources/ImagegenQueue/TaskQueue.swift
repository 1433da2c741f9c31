import BlockingIO
import Foundation
import ImagegenCore
import Logging
import RedisClient

/// A task a worker holds a lease on.
public struct LeasedTask: Sendable {
    public let entry: QueueEntry
}

/// Delivery of tasks through Redis: enqueue, lease, retry later, acknowledge.
///
/// PostgreSQL stays the truth about a task; this only decides who runs it when.
public final class TaskQueue: Sendable {
    public let name: String
    private let keys: QueueKeys
    private let connections: LanePool<RedisConnection>
    /// Blocking waits get their own connection so they never hold up other commands.
    private let waiter: LanePool<RedisConnection>
    private let waitSeconds: Int

    public init(name: String, url: RedisURL, connections: Int, logger: Logger, waitSeconds: Int = 1) {
        self.name = name
        self.keys = QueueKeys(queue: name)
        self.waitSeconds = waitSeconds
        self.connections = LanePool(
            label: "imagegen.redis",
            resources: (0..<max(connections, 1)).map { _ in RedisConnection(url: url, logger: logger) }
        )
        self.waiter = LanePool(
            label: "imagegen.redis.wait",
            resources: [RedisConnection(url: url, timeoutSeconds: waitSeconds + 5, logger: logger)]
        )
    }

    /// Connects now so that a bad REDIS_URL fails at start.
    public func connect() async throws {
        try await run { try $0.connect() }
    }

    /// Puts a task on the queue, due after `delayMilliseconds`. Enqueuing a task that
    /// is already queued does nothing and returns false.
    @discardableResult
    public func enqueue(_ entry: QueueEntry, delayMilliseconds: Int64 = 0) async throws -> Bool {
        let keys = self.keys
        let encoded = try entry.encoded()
        return try await run { connection in
            try connection.evaluate(
                QueueScripts.enqueue,
                keys: [keys.ready, keys.delayed, keys.entries, keys.wakeups],
                arguments: [entry.taskID.uuidString, encoded, String(delayMilliseconds)]
            ).integer == 1
        }
    }

    /// Leases up to `limit` ready tasks for `leaseMilliseconds`, without waiting.
    public func lease(limit: Int, leaseMilliseconds: Int64) async throws -> [LeasedTask] {
        let keys = self.keys
        let reply = try await run { connection in
            try connection.evaluate(
                QueueScripts.lease,
                keys: [keys.ready, keys.inflight, keys.entries],
                arguments: [String(limit), String(leaseMilliseconds)]
            )
        }
        let values = reply.array
        return try stride(from: 0, to: values.count - 1, by: 2).compactMap { index in
            guard let text = values[index + 1].text else { return nil }
            return LeasedTask(entry: try QueueEntry.decode(text))
        }
    }

    /// Blocks until a task may be ready or the wait time passes; leasing is still needed after.
    public func waitForWork() async throws {
        let keys = self.keys
        let seconds = waitSeconds
        try await waiter.withResource { connection in
            try connection.command(["BLPOP", keys.wakeups, String(seconds)])
        }
    }

    /// Moves retries that are due to the ready list; returns how many moved.
    @discardableResult
    public func promoteDueRetries(limit: Int = 1000) async throws -> Int {
        let keys = self.keys
        return try await run { connection in
            Int(try connection.evaluate(
                QueueScripts.promote, keys: [keys.delayed, keys.ready, keys.wakeups], arguments: [String(limit)]
            ).integer ?? 0)
        }
    }

    /// Forgets a task that reached a final state.
    public func acknowledge(taskID: UUID) async throws {
        let keys = self.keys
        try await run { connection in
            try connection.evaluate(QueueScripts.acknowledge, keys: [keys.inflight, keys.entries], arguments: [taskID.uuidString])
        }
    }

    /// Hands a leased task back to wait `delayMilliseconds` before its next attempt.
    @discardableResult
    public func retry(_ entry: QueueEntry, delayMilliseconds: Int64) async throws -> Bool {
        let keys = self.keys
        let encoded = try entry.encoded()
        return try await run { connection in
            try connection.evaluate(
                QueueScripts.retry,
                keys: [keys.inflight, keys.delayed, keys.entries],
                arguments: [entry.taskID.uuidString, encoded, String(delayMilliseconds)]
            ).integer == 1
        }
    }

    /// Counts of ready, delayed and in-flight tasks.
    public func depth() async throws -> (ready: Int, delayed: Int, inflight: Int) {
        let keys = self.keys
        return try await run { connection in
            (
                Int(try connection.command(["LLEN", keys.ready]).integer ?? 0),
                Int(try connection.command(["ZCARD", keys.delayed]).integer ?? 0),
                Int(try connection.command(["ZCARD", keys.inflight]).integer ?? 0)
            )
        }
    }

    /// The encoded entry Redis holds for a task, if any.
    public func entry(taskID: UUID) async throws -> QueueEntry? {
        let keys = self.keys
        let text = try await run { connection in
            try connection.command(["HGET", keys.entries, taskID.uuidString]).text
        }
        return try text.map(QueueEntry.decode)
    }

    /// Server setting that decides whether Redis may evict queue keys under memory pressure.
    public func evictionPolicy() async throws -> String? {
        try await run { connection in
            try connection.command(["CONFIG", "GET", "maxmemory-policy"]).array.last?.text
        }
    }

    @discardableResult
    private func run<Result: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> Result) async throws -> Result {
        try await connections.withResource(body)
    }
}
