import Foundation
import ImagegenCore
import ImagegenStore
import Synchronization

/// A worker's attempts, started and finished in batches: the starts of the tasks it leased
/// together share one transaction, and so do the ends of the attempts that finish together.
final class AttemptBatches: Sendable {
    private let starts: Batcher<AttemptStart, TaskAttempt?>
    private let finishes: Batcher<FinishedAttempt, AttemptOutcome>

    /// After a batch of fewer than 48, the next one fills for 100 ms while the queue has no
    /// backlog: a steady 250 tasks a second then costs about 10 transactions a second each
    /// way instead of one per task or two, and a task waits 50 ms more on average at each end,
    /// little beside the seconds a provider takes, for a third less PostgreSQL and worker CPU
    /// than 40 ms gave (`scripts/bench api`), CPU the API's requests find free. A worker working
    /// off a backlog (its last lease filled every free slot) never waits.
    static let linger = Linger(interval: .milliseconds(100), below: 48)

    private let backlog = Backlog()

    /// Two writers of at most 128 per kind: when a wave of a thousand calls ends at once, the
    /// first slots come free after one small batch rather than one large one, and two batches
    /// are written at a time (`Batcher` runs the second only for a backlog or a full batch).
    init(store: AttemptStore) {
        let backlog = self.backlog
        starts = Batcher(concurrency: 2, maxCount: 128, linger: Self.linger, mayLinger: { !backlog.isLikely }) { starts in
            let started = try await store.beginAttempts(starts)
            return starts.map { started[$0.taskID] }
        }
        // Images travel in the batch's statement: keep one statement's bytes bounded.
        finishes = Batcher(
            concurrency: 2, maxCount: 128, maxWeight: 16 << 20, weight: { $0.images.reduce(0) { $0 + $1.bytes.count } },
            linger: Self.linger, mayLinger: { !backlog.isLikely }
        ) { finished in
            try await store.finish(finished)
        }
    }

    /// Notes whether the worker's last lease filled every slot it asked for, so that the
    /// queue may hold more: batches then go out as soon as they can.
    func noteLease(filledEverySlot: Bool) {
        backlog.isLikely = filledEverySlot
    }

    /// The task's next attempt, or nil when it is in no state to run (`AttemptStore.beginAttempts`).
    func begin(_ start: AttemptStart) async throws -> TaskAttempt? {
        try await starts.submit(start)
    }

    func finish(_ finished: FinishedAttempt) async throws -> AttemptOutcome {
        try await finishes.submit(finished)
    }
}

/// Whether the queue likely holds more than the worker has room for, as its last lease said.
private final class Backlog: Sendable {
    private let flag = Atomic<Bool>(false)

    var isLikely: Bool {
        get { flag.load(ordering: .relaxed) }
        set { flag.store(newValue, ordering: .relaxed) }
    }
}
