import Foundation
import ImagegenQueue
import ImagegenStore
import Logging
import Synchronization

/// Keeps this worker's leases alive while its attempts run: every interval it extends
/// them in Redis and records a heartbeat in PostgreSQL, in one call to each for all
/// tasks. A worker that dies stops heartbeating, so its tasks are reaped within a lease.
///
/// Redis and PostgreSQL are beaten by separate loops, so a PostgreSQL that hangs never
/// delays a lease renewal (which would let another worker take a live task over).
final class LeaseKeeper: Sendable {
    private let held = Mutex<[UUID: QueueEntry]>([:])
    /// Tasks whose lease another worker now holds; their attempts must not start.
    private let lost = Mutex<Set<UUID>>([])
    private let queue: TaskQueue
    private let attempts: AttemptStore
    private let leaseMilliseconds: Int64
    private let logger: Logger

    init(queue: TaskQueue, attempts: AttemptStore, leaseMilliseconds: Int64, logger: Logger) {
        self.queue = queue
        self.attempts = attempts
        self.leaseMilliseconds = leaseMilliseconds
        self.logger = logger
    }

    /// Starts keeping `entry`'s lease alive; false when this worker already runs the task
    /// (its lease lapsed and this worker leased it again), which then needs no second attempt.
    func hold(_ entry: QueueEntry) -> Bool {
        lost.withLock { _ = $0.remove(entry.taskID) }
        return held.withLock { held in
            guard held[entry.taskID] == nil else { return false }
            held[entry.taskID] = entry
            return true
        }
    }

    func release(_ taskID: UUID) {
        held.withLock { $0[taskID] = nil }
        lost.withLock { _ = $0.remove(taskID) }
    }

    func isLost(_ taskID: UUID) -> Bool {
        lost.withLock { $0.contains(taskID) }
    }

    /// Heartbeats every third of a lease until cancelled, Redis and PostgreSQL each in a loop of its own.
    func run() async {
        let interval = Duration.milliseconds(max(leaseMilliseconds / 3, 10))
        await withDiscardingTaskGroup { group in
            group.addTask { await self.every(interval, self.renewLeases) }
            group.addTask { await self.every(interval, self.recordHeartbeats) }
        }
    }

    private func every(_ interval: Duration, _ beat: @Sendable () async -> Void) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await beat()
        }
    }

    func renewLeases() async {
        let entries = held.withLock { Array($0.values) }
        guard !entries.isEmpty else { return }
        do {
            let lostNow = try await queue.heartbeat(entries, leaseMilliseconds: leaseMilliseconds)
            lost.withLock { $0.formUnion(lostNow) }
            for taskID in lostNow {
                logger.warning(
                    "lease lost to another worker; this attempt will not start, or its result will be fenced off",
                    metadata: ["task_id": "\(taskID.uuidString.lowercased())"]
                )
            }
        } catch {
            logger.error("cannot renew leases in Redis: \(error)")
        }
    }

    func recordHeartbeats() async {
        let taskIDs = held.withLock { Array($0.keys) }
        guard !taskIDs.isEmpty else { return }
        do {
            try await attempts.heartbeat(taskIDs)
        } catch {
            logger.error("cannot record heartbeats in PostgreSQL: \(error)")
        }
    }
}
