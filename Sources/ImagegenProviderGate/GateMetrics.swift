import ImagegenCore
import Metrics

/// What the gate counts, under the names `/metrics` shows.
enum GateMetrics {
    /// A call had to wait; `reason` is what held it first: rate_limited, out_of_quota,
    /// breaker_open or breaker_probe.
    static func waited(_ duration: Duration, reason: String) {
        Counter(label: "imagegen_provider_gate_waits_total", dimensions: [("reason", reason)]).increment()
        Timer(label: "imagegen_provider_gate_wait_seconds", dimensions: [("reason", reason)]).recordNanoseconds(duration.nanoseconds)
    }

    static func breakerChanged(to state: BreakerState) {
        Counter(label: "imagegen_provider_breaker_transitions_total", dimensions: [("to", state.rawValue)]).increment()
    }

    static func keySetAside(reason: String) {
        Counter(label: "imagegen_provider_keys_set_aside_total", dimensions: [("reason", reason)]).increment()
    }

    /// Gauges read from Redis at each scrape.
    static func record(_ status: GateStatus) {
        Gauge(label: "imagegen_provider_breaker_state").record(status.breaker.gaugeValue)
        for key in status.keys {
            Gauge(label: "imagegen_provider_key_set_aside", dimensions: [("key", key.id)]).record(key.asideMilliseconds > 0 ? 1 : 0)
        }
    }
}
