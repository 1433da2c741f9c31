import Logging
import Metrics
import Prometheus

/// How log records are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One readable line per record (the default).
    case text
    /// One JSON object per line (`LOG_FORMAT=json`).
    case json
}

/// Process-wide logging and metrics, set up once at start.
public enum Telemetry {
    /// Provider calls take seconds, so their histogram reaches two minutes; HTTP and storage
    /// latencies use the finer default buckets.
    static let slowBuckets: [Duration] = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90, 120].map { .milliseconds(Int($0 * 1000)) }

    /// Names of the timers whose histograms need `slowBuckets`.
    public static let slowTimers = ["imagegen_provider_request_duration_seconds", "imagegen_task_duration_seconds"]

    /// Sends logs to standard error in `format` and metrics to a Prometheus registry,
    /// which is returned for the `/metrics` route.
    public static func bootstrap(logFormat: LogFormat, logLevel: Logger.Level) -> PrometheusCollectorRegistry {
        LoggingSystem.bootstrap { label in
            switch logFormat {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = logLevel
                return handler
            case .json:
                return JSONLogHandler(label: label, level: logLevel)
            }
        }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        for name in slowTimers {
            factory.durationHistogramBuckets[name] = slowBuckets
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
