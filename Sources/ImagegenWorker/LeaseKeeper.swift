import Foundation
import ImagegenQueue
import ImagegenStore
import Logging
import Synchronization

/// Keeps this worker's leases alive while its attempts run: every interval it extends
/// them in Redis and records a heartbeat in PostgreSQL, in one call to each for all
/// tasks. A worker that dies stops heartbeating, so its tasks are reaped within a lease.
final class LeaseKeeper: Sendable {
    private let held = Mutex<[UUID: QueueEntry]>([:])
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

    func hold(_ entry: QueueEntry) {
        held.withLock { $0[entry.taskID] = entry }
    }

    func release(_ taskID: UUID) {
        held.withLock { $0[taskID] = nil }
    }

    /// Heartbeats every third of a lease until cancelled. Redis and PostgreSQL are beaten
    /// separately, so an outage of one does not stop the other.
    func run() async {
        let interval = Duration.milliseconds(max(leaseMilliseconds / 3, 10))
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await beat()
        }
    }

    func beat() async {
        let entries = held.withLock { Array($0.values) }
        guard !entries.isEmpty else { return }
        do {
            let lost = try await queue.heartbeat(entries, leaseMilliseconds: leaseMilliseconds)
            for taskID in lost {
                logger.warning(
                    "lease lost to another worker; this attempt's result will be fenced off",
                    metadata: ["task_id": "\(taskID.uuidString.lowercased())"]
                )
            }
        } catch {
            logger.error("cannot renew leases in Redis: \(error)")
        }
        do {
            try await attempts.heartbeat(entries.map(\.taskID))
        } catch {
            logger.error("cannot record heartbeats in PostgreSQL: \(error)")
        }
    }
}
