import Metrics

/// A queue's depth as gauges, refreshed from `TaskQueue.stats()` when metrics are scraped.
/// Ready counts tasks that could start now; delayed retries are apart, so an autoscaler
/// reading ready does not add workers for tasks that are only waiting out a backoff.
public struct QueueGauges: Sendable {
    private let ready: Gauge
    private let delayed: Gauge
    private let inflight: Gauge
    private let oldestReadySeconds: Gauge

    public init(queue: String) {
        let dimensions = [("queue", queue)]
        ready = Gauge(label: "imagegen_queue_ready_tasks", dimensions: dimensions)
        delayed = Gauge(label: "imagegen_queue_delayed_tasks", dimensions: dimensions)
        inflight = Gauge(label: "imagegen_queue_inflight_tasks", dimensions: dimensions)
        oldestReadySeconds = Gauge(label: "imagegen_queue_oldest_ready_age_seconds", dimensions: dimensions)
    }

    public func record(_ stats: QueueStats) {
        ready.record(stats.ready)
        delayed.record(stats.delayed)
        inflight.record(stats.inflight)
        oldestReadySeconds.record(Double(stats.oldestReadyMilliseconds ?? 0) / 1000)
    }
}
