import BlockingIO
import Foundation
import ImagegenCore
import Logging
import RedisClient

/// A task a worker holds a lease on.
public struct LeasedTask: Sendable {
    public let entry: QueueEntry
}

/// What one lease call took, and the upkeep it did on the way.
public struct LeaseBatch: Sendable {
    public let tasks: [LeasedTask]
    /// Tasks whose lease had expired and that went back to ready.
    public let reaped: Int
    /// Retries that became due and went to ready.
    public let promoted: Int
}

/// Sizes of the queue at one instant.
public struct QueueStats: Sendable, Equatable {
    public let ready: Int
    /// Retries waiting for their backoff to pass.
    public let delayed: Int
    public let inflight: Int
    /// Leases past their deadline that the next lease call will reap.
    public let expiredLeases: Int
    /// How long the oldest ready task has waited, if any waits.
    public let oldestReadyMilliseconds: Int64?
}

/// Delivery of tasks through Redis: enqueue, lease, retry later, acknowledge.
///
/// PostgreSQL stays the truth about a task; this only decides who runs it when.
public final class TaskQueue: Sendable {
    public let name: String
    /// Identifies this instance's leases; only the owner can finish or return a task it leased.
    public let owner: String
    /// How many due retries and expired leases one lease call moves at most.
    static let upkeepLimit = 1000
    private let keys: QueueKeys
    private let connections: LanePool<RedisConnection>
    /// Blocking waits get their own connection so they never hold up other commands.
    private let waiter: LanePool<RedisConnection>
    private let waitSeconds: Int
    private let clock: RedisClock
    /// Joins the acknowledgements that arrive while one is being written: a wave of a thousand
    /// finished calls is then a few Redis calls, not a thousand round trips.
    private let acknowledgements: Batcher<UUID, Bool>

    /// - Parameters:
    ///   - waitSeconds: how long `waitForWork()` blocks at most when nothing wakes it.
    ///   - clock: where the queue's scripts read the time; Redis' own outside tests.
    public init(name: String, url: RedisURL, connections: Int, logger: Logger, waitSeconds: Int = 1, clock: RedisClock = .server) {
        let owner = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
        let keys = QueueKeys(queue: name)
        let pool = LanePool(
            label: "imagegen.redis",
            resources: (0..<max(connections, 1)).map { _ in RedisConnection(url: url, logger: logger) }
        )
        self.name = name
        self.clock = clock
        self.owner = owner
        self.keys = keys
        self.waitSeconds = waitSeconds
        self.connections = pool
        self.acknowledgements = Batcher(concurrency: 1, maxCount: 1024) { taskIDs in
            let reply = try await pool.withResource { connection in
                try connection.evaluate(
                    QueueScripts.acknowledge, keys: [keys.inflight, keys.entries, keys.leases], arguments: [owner] + taskIDs.map(\.uuidString)
                )
            }
            let acknowledged = reply.array.map { $0.integer == 1 }
            guard acknowledged.count == taskIDs.count else { throw RedisError(.reply, "unexpected reply to the acknowledge script") }
            return acknowledged
        }
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
        try await enqueue([entry], delayMilliseconds: delayMilliseconds)[0]
    }

    /// Puts tasks on the queue in one call, each due after `delayMilliseconds`; for each, in
    /// order, whether it was enqueued (false: it was already queued).
    @discardableResult
    public func enqueue(_ entries: [QueueEntry], delayMilliseconds: Int64 = 0) async throws -> [Bool] {
        guard !entries.isEmpty else { return [] }
        let keys = self.keys, clock = self.clock
        let arguments = try entries.flatMap { entry in [entry.taskID.uuidString, try entry.encoded(), String(delayMilliseconds)] }
        let reply = try await run { connection in
            try connection.evaluate(
                QueueScripts.enqueue, clock: clock, keys: [keys.ready, keys.delayed, keys.entries, keys.wakeups], arguments: arguments
            )
        }
        let enqueued = reply.array.map { $0.integer == 1 }
        guard enqueued.count == entries.count else { throw RedisError(.reply, "unexpected reply to the enqueue script") }
        return enqueued
    }

    /// Leases up to `limit` ready tasks for `leaseMilliseconds`, without waiting, after
    /// moving due retries and expired leases back to ready.
    public func lease(limit: Int, leaseMilliseconds: Int64) async throws -> LeaseBatch {
        let keys = self.keys, clock = self.clock
        let owner = self.owner
        let reply = try await run { connection in
            try connection.evaluate(
                QueueScripts.lease, clock: clock,
                keys: [keys.ready, keys.delayed, keys.inflight, keys.entries, keys.leases, keys.wakeups],
                arguments: [String(limit), String(leaseMilliseconds), owner, String(Self.upkeepLimit)]
            )
        }
        let values = reply.array
        guard values.count >= 2 else { throw RedisError(.reply, "unexpected reply to the lease script") }
        let tasks = try stride(from: 2, to: values.count - 1, by: 2).compactMap { index in
            try values[index + 1].text.map { LeasedTask(entry: try QueueEntry.decode($0)) }
        }
        return LeaseBatch(tasks: tasks, reaped: Int(values[0].integer ?? 0), promoted: Int(values[1].integer ?? 0))
    }

    /// Extends the leases this queue's owner holds on `entries`; returns the ids whose
    /// lease was lost to another worker (their attempt's result will be fenced off).
    public func heartbeat(_ entries: [QueueEntry], leaseMilliseconds: Int64) async throws -> [UUID] {
        guard !entries.isEmpty else { return [] }
        let keys = self.keys, clock = self.clock
        var arguments = [String(leaseMilliseconds), owner]
        for entry in entries {
            arguments += [entry.taskID.uuidString, try entry.encoded()]
        }
        let reply = try await run { [arguments] connection in
            try connection.evaluate(
                QueueScripts.heartbeat, clock: clock, keys: [keys.inflight, keys.entries, keys.leases], arguments: arguments
            )
        }
        return reply.array.compactMap { $0.text.flatMap(UUID.init(uuidString:)) }
    }

    /// Blocks until a task may be ready or the wait time passes; leasing is still needed after.
    public func waitForWork() async throws {
        let keys = self.keys
        let seconds = waitSeconds
        try await waiter.withResource { connection in
            try connection.command(["BLPOP", keys.wakeups, String(seconds)])
        }
    }

    /// Forgets a task that reached a final state; returns false if the lease was lost. Tasks
    /// that finish together are forgotten in one call (`acknowledgements`).
    @discardableResult
    public func acknowledge(taskID: UUID) async throws -> Bool {
        try await acknowledgements.submit(taskID)
    }

    /// Hands a leased task back to wait `delayMilliseconds` before its next attempt.
    @discardableResult
    public func retry(_ entry: QueueEntry, delayMilliseconds: Int64) async throws -> Bool {
        let keys = self.keys, clock = self.clock
        let owner = self.owner
        let encoded = try entry.encoded()
        return try await run { connection in
            try connection.evaluate(
                QueueScripts.retry, clock: clock,
                keys: [keys.inflight, keys.delayed, keys.entries, keys.leases],
                arguments: [entry.taskID.uuidString, encoded, String(delayMilliseconds), owner]
            ).integer == 1
        }
    }

    /// Returns a leased task that this worker will not finish to the front of the ready queue.
    @discardableResult
    public func handBack(taskID: UUID) async throws -> Bool {
        let keys = self.keys, clock = self.clock
        let owner = self.owner
        return try await run { connection in
            try connection.evaluate(
                QueueScripts.handBack, clock: clock, keys: [keys.inflight, keys.ready, keys.leases, keys.wakeups],
                arguments: [taskID.uuidString, owner]
            ).integer == 1
        }
    }

    /// Takes a waiting (ready or delayed) task off the queue; a leased task is left alone.
    @discardableResult
    public func withdraw(taskID: UUID) async throws -> Bool {
        let keys = self.keys
        return try await run { connection in
            try connection.evaluate(
                QueueScripts.withdraw, keys: [keys.ready, keys.delayed, keys.entries], arguments: [taskID.uuidString]
            ).integer == 1
        }
    }

    /// The ids among `taskIDs` that the queue holds nowhere.
    public func missing(_ taskIDs: [UUID]) async throws -> Set<UUID> {
        guard !taskIDs.isEmpty else { return [] }
        let keys = self.keys
        let reply = try await run { connection in
            try connection.evaluate(
                QueueScripts.missing,
                keys: [keys.ready, keys.delayed, keys.inflight, keys.entries, keys.leases],
                arguments: taskIDs.map(\.uuidString)
            )
        }
        return Set(reply.array.compactMap { $0.text.flatMap(UUID.init(uuidString:)) })
    }

    /// Takes the reconciler's turn for `milliseconds` if no other worker holds it.
    public func claimReconcilerTurn(milliseconds: Int64) async throws -> Bool {
        let keys = self.keys
        let owner = self.owner
        return try await run { connection in
            try connection.command(["SET", keys.reconcilerTurn, owner, "NX", "PX", String(milliseconds)]).text == "OK"
        }
    }

    /// One consistent snapshot of the queue's sizes.
    public func stats() async throws -> QueueStats {
        let keys = self.keys, clock = self.clock
        let values = try await run { connection in
            try connection.evaluate(QueueScripts.stats, clock: clock, keys: [keys.ready, keys.delayed, keys.inflight], arguments: []).array
        }.map { $0.integer ?? 0 }
        guard values.count == 6 else { throw RedisError(.reply, "unexpected reply to the stats script") }
        return QueueStats(
            ready: Int(values[0]), delayed: Int(values[1]), inflight: Int(values[2]), expiredLeases: Int(values[3]),
            oldestReadyMilliseconds: values[4] < 0 ? nil : max(values[5] - values[4], 0)
        )
    }

    /// The encoded entry Redis holds for a task, if any.
    public func entry(taskID: UUID) async throws -> QueueEntry? {
        let keys = self.keys
        let text = try await run { connection in
            try connection.command(["HGET", keys.entries, taskID.uuidString]).text
        }
        return try text.map(QueueEntry.decode)
    }

    /// Checks that Redis answers, for readiness probes.
    public func ping() async throws {
        _ = try await run { connection in try connection.command(["PING"]) }
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
