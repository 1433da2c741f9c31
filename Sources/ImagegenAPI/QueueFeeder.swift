import ImagegenCore
import ImagegenQueue
import Logging
import ServiceLifecycle
import Synchronization

/// Puts the tasks the API has committed on the queue, without holding up their answers.
///
/// A submission is safe once its row is committed: PostgreSQL is the truth, and the workers'
/// reconciler enqueues any unfinished task Redis does not hold. So the 202 goes out after the
/// commit, and the enqueues of the submissions that arrive together go to Redis in one call
/// (`Batcher`), which spares each request two thread hops and a Redis round trip.
///
/// At shutdown it runs after the HTTP server has answered its last request and waits for
/// every enqueue it was handed; one that fails is left to the reconciler, which finds the
/// task once it has been unchanged for its settle time.
final class QueueFeeder: Service, Sendable {
    private let batcher: Batcher<QueueEntry, Bool>
    private let logger: Logger
    /// Entries handed in and not yet written, and whoever waits for that to be none.
    private let pending = Mutex<(count: Int, drained: [CheckedContinuation<Void, Never>])>((0, []))

    init(queue: TaskQueue, logger: Logger) {
        self.logger = logger
        batcher = Batcher(concurrency: 1, maxCount: 256) { entries in try await queue.enqueue(entries) }
    }

    /// Enqueues `entry` soon; returns at once.
    func feed(_ entry: QueueEntry) {
        pending.withLock { $0.count += 1 }
        Task {
            do {
                _ = try await batcher.submit(entry)
            } catch {
                logger.warning(
                    "enqueue failed; the reconciler will enqueue the task",
                    metadata: ["task_id": "\(entry.taskID.uuidString.lowercased())", "error": "\(error)"]
                )
            }
            let drained = pending.withLock { pending -> [CheckedContinuation<Void, Never>] in
                pending.count -= 1
                guard pending.count == 0 else { return [] }
                defer { pending.drained = [] }
                return pending.drained
            }
            drained.forEach { $0.resume() }
        }
    }

    /// Returns once every entry handed in so far has been written or has failed.
    func drained() async {
        await withCheckedContinuation { continuation in
            let done = pending.withLock { pending -> Bool in
                guard pending.count > 0 else { return true }
                pending.drained.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Waits for the graceful shutdown, then for the last entries to be written.
    func run() async throws {
        try? await gracefulShutdown()
        await drained()
    }
}
