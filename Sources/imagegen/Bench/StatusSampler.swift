import CurlClient
import Foundation
import Synchronization

/// Polls the status of recently submitted tasks at a fixed rate, like a client's poller,
/// and records each poll's latency in milliseconds.
final class StatusSampler: Sendable {
    private let client: CurlMultiClient
    private let api: String
    private let perSecond: Int
    /// Polls sent before this are left out of the latencies (the warm-up).
    private let measuredFrom: ContinuousClock.Instant
    /// Recent tasks with the key of the user who submitted each.
    private let state = Mutex<(tasks: [(id: String, key: String)], latencies: [Double], stopped: Bool)>(([], [], false))

    init(client: CurlMultiClient, api: String, perSecond: Int, measuredFrom: ContinuousClock.Instant) {
        self.client = client
        self.measuredFrom = measuredFrom
        self.api = api
        self.perSecond = perSecond
    }

    func add(_ taskID: String, key: String) {
        state.withLock { state in
            // The newest few hundred tasks: the ones clients would be polling.
            if state.tasks.count >= 512 { state.tasks.removeFirst(256) }
            state.tasks.append((taskID, key))
        }
    }

    func stop() { state.withLock { $0.stopped = true } }

    var latencies: [Double] { state.withLock { $0.latencies } }

    func run() async {
        guard perSecond > 0 else { return }
        let start = ContinuousClock.now
        await withDiscardingTaskGroup { group in
            var index: Int64 = 0
            while !state.withLock({ $0.stopped }), !Task.isCancelled {
                index += 1
                await BenchCommand.pace(until: start + .nanoseconds(index * 1_000_000_000 / Int64(perSecond)))
                guard let task = state.withLock({ $0.tasks.randomElement() }) else { continue }
                group.addTask { await self.poll(task.id, key: task.key) }
            }
        }
    }

    private func poll(_ taskID: String, key: String) async {
        let measured = ContinuousClock.now >= measuredFrom
        guard let response = try? await client.send(CurlRequest(
            url: api + "/images/tasks/\(taskID)/status", headers: [("Authorization", "Bearer \(key)")]
        )), response.status == 200 else { return }
        let milliseconds = response.exchangeTime.fractionalMilliseconds
        if measured { state.withLock { $0.latencies.append(milliseconds) } }
    }
}
