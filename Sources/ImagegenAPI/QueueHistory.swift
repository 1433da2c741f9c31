import Foundation
import ImagegenQueue
import Logging
import ServiceLifecycle
import Synchronization

/// The queue's recent depths as this API process sampled them, for the operator view's
/// charts. Each API process keeps its own samples: they are a picture of the last minutes,
/// not a record, so they live in memory and start empty after a restart.
final class QueueHistory: Sendable {
    struct Sample: Sendable, Equatable {
        let at: Date
        let stats: QueueStats
    }

    /// Samples kept; at the default interval of 5 s, the last 10 minutes.
    static let capacity = 120

    private let samples = Mutex<[Sample]>([])

    var recent: [Sample] { samples.withLock { $0 } }

    func record(_ stats: QueueStats, at instant: Date = Date()) {
        samples.withLock { samples in
            samples.append(Sample(at: instant, stats: stats))
            if samples.count > Self.capacity { samples.removeFirst(samples.count - Self.capacity) }
        }
    }
}

/// Samples the queue into a `QueueHistory` every `interval` for as long as the API runs. A
/// sample Redis cannot give is skipped: the chart shows a gap rather than a made-up zero.
struct QueueSampler: Service {
    let queue: TaskQueue
    let history: QueueHistory
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    history.record(try await queue.stats())
                } catch {
                    logger.debug("cannot sample the queue: \(error)")
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
