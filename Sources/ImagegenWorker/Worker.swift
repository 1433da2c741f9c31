import ImagegenQueue
import ImagegenStore
import Logging
import Synchronization

/// Leases tasks in batches and keeps up to `concurrency` of them running at once, while
/// keeping their leases alive and reconciling the queue against PostgreSQL.
public struct Worker: Sendable {
    public struct Options: Sendable {
        public var concurrency: Int
        /// How long a lease lasts without a heartbeat; heartbeats come every third of it.
        public var leaseMilliseconds: Int64
        /// How long provider calls already made may take to finish after `shutdown()`; derive
        /// it from the provider timeout (`shutdownGrace(providerTimeout:)`) so that no call is cut off.
        public var shutdownGrace: Duration
        public var reconcileInterval: Duration

        public init(
            concurrency: Int = 16, leaseMilliseconds: Int64 = 15_000, shutdownGrace: Duration = .seconds(25),
            reconcileInterval: Duration = .seconds(5)
        ) {
            self.concurrency = concurrency
            self.leaseMilliseconds = leaseMilliseconds
            self.shutdownGrace = shutdownGrace
            self.reconcileInterval = reconcileInterval
        }

        /// The grace that lets every call made before a stop end on its own: the provider
        /// timeout plus time to record the outcome (`recordingAllowance`).
        public static func shutdownGrace(providerTimeout: Duration) -> Duration {
            providerTimeout + recordingAllowance
        }

        /// Time to store a finished call's images and charge, PostgreSQL retries included.
        public static let recordingAllowance = Duration.seconds(15)
    }

    let queue: TaskQueue
    let processor: TaskProcessor
    let reconciler: Reconciler
    let options: Options
    let logger: Logger
    private let slots: WorkSlots
    private let leases: LeaseKeeper
    private let stop = StopSignal()

    /// - Parameter heartbeats: records that this worker's attempts are alive; give it a
    ///   PostgreSQL connection of its own, so that heartbeats never queue behind other work
    ///   and a busy worker is not taken for a dead one (whose tasks another worker takes over).
    public init(
        queue: TaskQueue, processor: TaskProcessor, heartbeats: AttemptStore, reconciler: Reconciler, options: Options, logger: Logger
    ) {
        self.queue = queue
        self.processor = processor
        self.reconciler = reconciler
        self.options = options
        self.logger = logger
        self.slots = WorkSlots(count: options.concurrency)
        self.leases = LeaseKeeper(queue: queue, attempts: heartbeats, leaseMilliseconds: options.leaseMilliseconds, logger: logger)
    }

    /// Stops taking tasks and starting provider calls: tasks waiting at the gate or not yet
    /// started go back to the queue at once; calls already made run to their end.
    public func shutdown() {
        slots.close()
        stop.stop()
    }

    /// Works until `shutdown()` or cancellation. After `shutdown()` calls already made get
    /// the grace period to end; attempts still running after it (or at once, on
    /// cancellation) are abandoned and handed back to the queue, never failed.
    public func run() async {
        logger.info("worker started", metadata: ["queue": "\(queue.name)", "concurrency": "\(options.concurrency)"])
        await withDiscardingTaskGroup { group in
            group.addTask { await leases.run() }
            group.addTask { await reconciler.run(every: options.reconcileInterval) }
            await dispatch(into: &group)
            await waitForRunningAttempts()
            group.cancelAll()
        }
        logger.info("worker stopped")
    }

    private func dispatch(into group: inout DiscardingTaskGroup) async {
        while !Task.isCancelled {
            let free = await slots.takeFree()
            if free == 0 { return }
            let batch: LeaseBatch
            do {
                batch = try await queue.lease(limit: free, leaseMilliseconds: options.leaseMilliseconds)
            } catch {
                slots.give(free)
                await pauseAfter(error)
                continue
            }
            if batch.reaped > 0 {
                WorkerMetrics.leasesReaped(batch.reaped)
                logger.notice("reaped expired leases; their tasks are ready again", metadata: ["tasks": "\(batch.reaped)"])
            }
            slots.give(free - batch.tasks.count)
            processor.attempts.noteLease(filledEverySlot: batch.tasks.count == free)
            for task in batch.tasks {
                guard leases.hold(task.entry) else {
                    // Already running here: the lease is this worker's again, and the running attempt finishes the task.
                    slots.give()
                    continue
                }
                group.addTask {
                    WorkerMetrics.attemptsInFlight.increment()
                    defer { WorkerMetrics.attemptsInFlight.decrement() }
                    let call = CallEnd()
                    await processor.process(task, stop: stop, leaseLost: { leases.isLost($0) }) {
                        call.happened()
                        slots.callEnded()
                    }
                    leases.release(task.entry.taskID)
                    if call.hasHappened { slots.recorded() } else { slots.give() }
                }
            }
            // A lease that left slots free emptied the ready queue: wait to be woken rather than
            // ask again at once, which under a trickle cost an empty lease for every task.
            if batch.tasks.count < free {
                do {
                    try await queue.waitForWork()
                } catch {
                    await pauseAfter(error)
                }
            }
        }
    }

    private func waitForRunningAttempts() async {
        guard !Task.isCancelled, !slots.isIdle else { return }
        logger.notice(
            "stopping: no new provider calls; waiting for the calls already made",
            metadata: ["grace_seconds": "\(options.shutdownGrace.components.seconds)"]
        )
        let deadline = ContinuousClock.now + options.shutdownGrace
        while !slots.isIdle, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if !slots.isIdle {
            logger.warning("grace period over before the provider answered; handing unfinished tasks back (they may be paid twice)")
        }
    }

    private func pauseAfter(_ error: any Error) async {
        logger.error("cannot reach the queue: \(error); trying again in 1 s")
        try? await Task.sleep(for: .seconds(1))
    }
}

/// Whether a task's provider call has ended, told by the task's processing to its slot's keeper.
private final class CallEnd: Sendable {
    private let ended = Atomic<Bool>(false)

    func happened() { ended.store(true, ordering: .relaxed) }

    var hasHappened: Bool { ended.load(ordering: .relaxed) }
}
