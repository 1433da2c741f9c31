import ImagegenCore
import Metrics

/// What workers count, under the names `/metrics` shows.
enum WorkerMetrics {
    static func providerCall(outcome: String, duration: Duration) {
        Timer(label: "imagegen_provider_request_duration_seconds", dimensions: [("outcome", outcome)]).recordNanoseconds(duration.nanoseconds)
    }

    /// A task reached a final state; `code` is its error code, empty on success.
    static func taskFinished(_ status: TaskStatus, code: String = "") {
        Counter(label: "imagegen_tasks_finished_total", dimensions: [("status", status.rawValue), ("code", code)]).increment()
    }

    static func retryScheduled(reason: String) {
        Counter(label: "imagegen_task_retries_total", dimensions: [("reason", reason)]).increment()
    }

    static func leasesReaped(_ count: Int) {
        Counter(label: "imagegen_leases_reaped_total").increment(by: count)
    }

    static func spendReserved(_ amount: MicroDollars) {
        Counter(label: "imagegen_spend_reserved_micro_usd_total").increment(by: Int(amount.value))
    }

    static func spendSettled(_ amount: MicroDollars) {
        Counter(label: "imagegen_spend_settled_micro_usd_total").increment(by: Int(amount.value))
    }

    static let attemptsInFlight = Meter(label: "imagegen_worker_attempts_in_flight")
}
