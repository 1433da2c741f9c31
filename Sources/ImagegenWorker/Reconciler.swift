import Foundation
import ImagegenCore
import ImagegenQueue
import ImagegenStore
import Logging

/// Puts back on the queue every task that PostgreSQL says still has to run but Redis
/// no longer holds: Redis restarted without its data or was flushed, an enqueue failed
/// after the row was committed, or a worker died holding a task whose lease vanished.
///
/// Its turn also does the housekeeping: forgetting expired idempotency keys and purging
/// images past their retention.
///
/// Every worker runs one; a turn taken in Redis lets only one of them work per interval.
public struct Reconciler: Sendable {
    let queue: TaskQueue
    let recovery: RecoveryStore
    let backoff: BackoffPolicy
    /// A running task is orphaned only when its heartbeat is older than this.
    let leaseMilliseconds: Int64
    let logger: Logger
    /// Rows changed more recently than this may still be between their commit and their enqueue.
    let settleMilliseconds: Int64
    /// How long images are kept; nil keeps them forever.
    let imageRetention: ImageRetention?
    static let pageSize = 500

    public init(
        queue: TaskQueue, recovery: RecoveryStore, backoff: BackoffPolicy, leaseMilliseconds: Int64,
        settleMilliseconds: Int64 = 2_000, imageRetention: ImageRetention? = nil, logger: Logger
    ) {
        self.queue = queue
        self.recovery = recovery
        self.backoff = backoff
        self.leaseMilliseconds = leaseMilliseconds
        self.settleMilliseconds = settleMilliseconds
        self.imageRetention = imageRetention
        self.logger = logger
    }

    /// Reconciles every `interval` until cancelled.
    func run(every interval: Duration) async {
        let milliseconds = interval.milliseconds
        while !Task.isCancelled {
            do {
                if try await queue.claimReconcilerTurn(milliseconds: milliseconds) {
                    try await expireOverdue()
                    try await reconcile()
                    try await recovery.purgeExpiredIdempotencyKeys()
                    try await purgeExpiredImages()
                }
            } catch {
                logger.error("reconciliation failed; trying again next round: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Fails waiting tasks past their deadline as `expired` and takes them off the queue.
    public func expireOverdue() async throws {
        let expired = try await recovery.expireOverdue(queue: queue.name, limit: Self.pageSize)
        for taskID in expired { try await queue.withdraw(taskID: taskID) }
        for _ in expired { WorkerMetrics.taskFinished(.failed, code: TaskError.expired.code) }
        if !expired.isEmpty {
            logger.warning("tasks expired before they could start; they fail uncharged", metadata: ["tasks": "\(expired.count)"])
        }
    }

    private func purgeExpiredImages() async throws {
        guard let imageRetention else { return }
        let purge = try await imageRetention.store.purgeImages(finishedBefore: imageRetention.cutoff())
        if purge.tasks > 0 {
            logger.info(
                "purged images past their retention",
                metadata: ["tasks": "\(purge.tasks)", "images": "\(purge.images)", "bytes": "\(purge.bytes)"]
            )
        }
    }

    /// One full pass; returns how many tasks went back on the queue.
    @discardableResult
    public func reconcile() async throws -> Int {
        var cursor: UUID?
        var requeued = 0
        while true {
            let page = try await recovery.unfinished(
                queue: queue.name, after: cursor, limit: Self.pageSize, settleMilliseconds: settleMilliseconds,
                staleAfterMilliseconds: leaseMilliseconds
            )
            guard let last = page.last else { break }
            cursor = last.taskID
            let missing = try await queue.missing(page.map(\.taskID))
            let candidates = page.filter { missing.contains($0.taskID) }
            // Read again after Redis: a task that ended meanwhile (canceled, then withdrawn from the queue)
            // was still unfinished in the page, and must not go back. Every end is written to PostgreSQL
            // before the queue hears of it, so a task missing from the queue and unfinished now is truly lost.
            let stillUnfinished = candidates.isEmpty ? [] : try await recovery.stillUnfinished(candidates.map(\.taskID))
            for task in candidates where stillUnfinished.contains(task.taskID) {
                // A running task with a fresh heartbeat has a live worker, whose next heartbeat claims it again.
                if task.status == .running, !task.heartbeatStale { continue }
                let entry = QueueEntry(
                    taskID: task.taskID, attempt: task.attempts, backoff: backoff,
                    runAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000) + task.dueInMilliseconds, images: task.images
                )
                if try await queue.enqueue(entry, delayMilliseconds: task.status == .retrying ? task.dueInMilliseconds : 0) {
                    requeued += 1
                }
            }
            if page.count < Self.pageSize { break }
        }
        if requeued > 0 {
            logger.notice("re-enqueued tasks that PostgreSQL says are unfinished but Redis did not hold", metadata: ["tasks": "\(requeued)"])
        }
        return requeued
    }
}
