/// p50, p95 and p99 of a set of latencies, in milliseconds.
struct Percentiles {
    let p50: Double
    let p95: Double
    let p99: Double

    init(p50: Double, p95: Double, p99: Double) {
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
    }

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func at(_ fraction: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
        }
        self.init(p50: at(0.50), p95: at(0.95), p99: at(0.99))
    }
}

/// One scenario's figures, as one line of the bench table.
struct BenchRow {
    let name: String
    let tasks: Int
    let seconds: Duration
    let taskLatency: Percentiles
    let startLatency: Percentiles
    let succeeded: Int
    let posts: Percentiles
    let polls: Percentiles
    let memory: [(String, Double)]
    let callsPerTask: Double?

    static let header = [
        "scenario", "tasks", "ok", "tasks/s", "e2e p50/p95/p99 ms", "POST p50/p99 ms", "GET p50/p99 ms", "start p50/p99 ms",
        "peak MiB", "calls/task",
    ].joined(separator: " | ")

    var line: String {
        func ms(_ value: Double) -> String { value < 10 ? String(format: "%.1f", value) : String(format: "%.0f", value) }
        let rate = Double(tasks) / (seconds.fractionalMilliseconds / 1000)
        return [
            name, "\(tasks)", "\(succeeded)", String(format: "%.0f", rate),
            "\(ms(taskLatency.p50))/\(ms(taskLatency.p95))/\(ms(taskLatency.p99))",
            "\(ms(posts.p50))/\(ms(posts.p99))", "\(ms(polls.p50))/\(ms(polls.p99))",
            "\(ms(startLatency.p50))/\(ms(startLatency.p99))",
            memory.map { "\($0.0) \(String(format: "%.0f", $0.1))" }.joined(separator: ", "),
            callsPerTask.map { String(format: "%.2f", $0) } ?? "-",
        ].joined(separator: " | ")
    }
}
