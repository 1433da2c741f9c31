import ImagegenQueue
import Logging

/// Leases tasks in batches and keeps up to `concurrency` of them running at once.
public struct Worker: Sendable {
    public struct Options: Sendable {
        public var concurrency: Int
        public var leaseMilliseconds: Int64

        public init(concurrency: Int = 16, leaseMilliseconds: Int64 = 300_000) {
            self.concurrency = concurrency
            self.leaseMilliseconds = leaseMilliseconds
        }
    }

    let queue: TaskQueue
    let processor: TaskProcessor
    let options: Options
    let logger: Logger

    public init(queue: TaskQueue, processor: TaskProcessor, options: Options, logger: Logger) {
        self.queue = queue
        self.processor = processor
        self.options = options
        self.logger = logger
    }

    /// Works until the surrounding task is cancelled, then waits for running attempts.
    public func run() async {
        logger.info("worker started", metadata: ["queue": "\(queue.name)", "concurrency": "\(options.concurrency)"])
        let slots = WorkSlots(count: options.concurrency)
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let free = await slots.takeFree()
                let leased: [LeasedTask]
                do {
                    try await queue.promoteDueRetries()
                    leased = try await queue.lease(limit: free, leaseMilliseconds: options.leaseMilliseconds)
                } catch {
                    slots.give(free)
                    await pauseAfter(error)
                    continue
                }
                slots.give(free - leased.count)
                for task in leased {
                    group.addTask {
                        await processor.process(task)
                        slots.give()
                    }
                }
                if leased.isEmpty {
                    do {
                        try await queue.waitForWork()
                    } catch {
                        await pauseAfter(error)
                    }
                }
            }
        }
        logger.info("worker stopped")
    }

    private func pauseAfter(_ error: any Error) async {
        logger.error("cannot reach the queue: \(error); trying again in 1 s")
        try? await Task.sleep(for: .seconds(1))
    }
}
