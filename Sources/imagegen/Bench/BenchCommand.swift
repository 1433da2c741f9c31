import ArgumentParser
import CurlClient
import Foundation
import ImagegenStore
import Logging
import Synchronization

/// Drives a running imagegen only through its HTTP API, as a client would, and prints one
/// line of figures. Completion and per-task latencies are read from PostgreSQL (one count
/// query every 50 ms and one percentile query at the end), so the bench does not poll
/// every task and is not the bottleneck; a sampler polls status at a fixed rate to
/// measure the status route. `scripts/bench` starts the system and runs the scenarios.
///
/// With `--drain-workers N` it measures how fast workers empty a full queue: it submits
/// every task while no worker runs, then starts N `imagegen worker` processes itself and
/// times from their start until PostgreSQL has every task finished.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Load a running imagegen through its API and print throughput and latency figures."
    )

    @Option(help: "The API's base URL.") var api = "http://127.0.0.1:8080"
    @Option(help: "API keys of users with no limits, comma-separated; submissions take turns (DATABASE_URL must reach the same database).")
    var keys: String
    @Option(help: "Tasks to submit.") var tasks = 1_000
    @Option(help: "Submissions in flight at once (closed loop); ignored with --rate.") var inFlight = 64
    @Option(help: "Offer submissions at this many per second (open loop) instead.") var rate: Int?
    @Option(help: "Submit one task at a time, this many milliseconds apart (idle-start latency).") var spacingMs: Int?
    @Option(help: "Status polls per second while the run lasts.") var pollRate = 200
    @Option(help: "With --rate: leave the submissions and polls of this many first seconds out of the latencies, while connections and caches warm up.")
    var warmupSeconds = 0
    @Option(help: "The request body to submit.") var body = #"{"prompt": "bench"}"#
    @Option(help: "Scenario name printed in the first column.") var name = "bench"
    @Option(help: "Processes whose peak memory to report, as name=pid,name=pid.") var processes = ""
    @Option(help: "The mock provider's base URL, to count provider calls per task.") var provider: String?
    @Option(help: "Fill the queue first, then start this many worker processes and time how fast they drain it.") var drainWorkers: Int?
    @Option(help: "Each drain worker's --concurrency.") var workerConcurrency = 64
    @Flag(help: "Print the column header first.") var header = false

    func validate() throws {
        guard tasks > 0, inFlight > 0, pollRate >= 0 else { throw ValidationError("--tasks and --in-flight must be positive") }
        guard !keyList.isEmpty else { throw ValidationError("--keys needs at least one API key") }
        if let drainWorkers, drainWorkers <= 0 || workerConcurrency <= 0 {
            throw ValidationError("--drain-workers and --worker-concurrency must be positive")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if warmupSeconds < 0 || (warmupSeconds > 0 && rate == nil) { throw ValidationError("--warmup-seconds needs --rate and must not be negative") }
    }

    func run() async throws {
        let runtime = try await Runtime.start(label: "imagegen.bench")
        // Keep open as many connections as a second of requests could need at once, so that the
        // API is measured answering requests, not accepting connections.
        let client = CurlMultiClient(connections: max(inFlight, (rate ?? 0) + pollRate))
        let results = BenchResults(database: runtime.database)
        let users = try await results.users(ofKeys: keyList)
        let since = try await results.databaseNow()
        let callsBefore = try await providerCalls(client)

        let sampler = StatusSampler(
            client: client, api: api, perSecond: drainWorkers == nil ? pollRate : 0, measuredFrom: .now + .seconds(warmupSeconds)
        )
        var started = ContinuousClock.now
        async let polling: Void = sampler.run()
        let posts = try await submit(client, sampler: sampler)
        let drainers = try drainWorkers.map { count in
            started = .now
            return try (0..<count).map { _ in try WorkerProcess(concurrency: workerConcurrency) }
        }
        let finishedAt = try await results.waitForAll(users: users, since: since)
        let elapsed = finishedAt - started
        sampler.stop()
        await polling
        let drainMemory = drainers?.enumerated().compactMap { index, worker in worker.peakMemory.map { ("worker-\(index + 1)", $0) } }
        drainers?.forEach { $0.stop() }

        let latencies = try await results.latencies(users: users, since: since)
        let calls = try await providerCalls(client).map { $0 - (callsBefore ?? 0) }
        let row = BenchRow(
            name: name, tasks: tasks, seconds: elapsed, taskLatency: latencies.total, startLatency: latencies.start,
            succeeded: latencies.succeeded, posts: Percentiles(posts), polls: Percentiles(sampler.latencies),
            memory: peakMemory() + (drainMemory ?? []), callsPerTask: calls.map { Double($0) / Double(tasks) }
        )
        if header { print(BenchRow.header) }
        print(row.line)
    }

    /// Waits until `due`, unless it is less than a pacing tick away: requests then leave in small
    /// groups, up to a tick early, instead of each after a timer of its own, which cost the bench
    /// a thread wake-up per request on the two cores it measures.
    static func pace(until due: ContinuousClock.Instant) async {
        if due > .now + .milliseconds(4) { try? await Task.sleep(until: due) }
    }

    private var keyList: [String] {
        keys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Submits every task, the keys taking turns, and returns each POST's latency in milliseconds.
    private func submit(_ client: CurlMultiClient, sampler: StatusSampler) async throws -> [Double] {
        let keys = keyList, body = self.body, api = self.api
        let log = SubmissionLog()
        @Sendable func post(measured: Bool = true) async {
            let key = keys[log.nextTurn() % keys.count]
            let request = CurlRequest(
                method: "POST", url: api + "/images/generate",
                headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")], body: Array(body.utf8)
            )
            do {
                let response = try await client.send(request)
                let milliseconds = response.exchangeTime.fractionalMilliseconds
                guard response.status == 202 else {
                    log.failed("HTTP \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
                    return
                }
                if measured { log.accepted(milliseconds) }
                if let id = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["task_id"] as? String {
                    sampler.add(id, key: key)
                }
            } catch {
                log.failed("\(error)")
            }
        }
        if let spacingMs {
            for _ in 0..<tasks {
                await post()
                try await Task.sleep(for: .milliseconds(spacingMs))
            }
        } else if let rate {
            // Open loop: each submission leaves at its scheduled time, whether or not earlier ones have answered.
            let start = ContinuousClock.now
            await withDiscardingTaskGroup { group in
                for index in 0..<tasks {
                    let due = start + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(rate))
                    await Self.pace(until: due)
                    let measured = index >= warmupSeconds * rate
                    group.addTask { await post(measured: measured) }
                }
            }
        } else {
            await withDiscardingTaskGroup { group in
                for _ in 0..<min(inFlight, tasks) {
                    group.addTask {
                        while log.claim() < tasks { await post() }
                    }
                }
            }
        }
        let (latencies, failures) = log.results
        guard failures.isEmpty else {
            throw StartupFailure(description: "\(failures.count) submissions failed, e.g. \(failures[0])")
        }
        return latencies
    }

    /// Requests the mock provider has served so far (its base URL without `/v1`).
    private func providerCalls(_ client: CurlMultiClient) async throws -> Int? {
        guard let provider else { return nil }
        let base = provider.hasSuffix("/v1") ? String(provider.dropLast(3)) : provider
        let response = try await client.send(CurlRequest(url: base + "/_mock/stats"))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["requests"] as? Int
    }

    /// VmHWM of each named process: the most resident memory it ever had, in MiB.
    private func peakMemory() -> [(String, Double)] {
        processes.split(separator: ",").compactMap { pair in
            let parts = pair.split(separator: "=")
            guard parts.count == 2, let pid = Int32(parts[1]), let mebibytes = peakResidentMebibytes(pid: pid) else { return nil }
            return (String(parts[0]), mebibytes)
        }
    }
}

/// VmHWM of a process: the most resident memory it ever had, in MiB.
private func peakResidentMebibytes(pid: Int32) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
    return kilobytes / 1024
}

/// An `imagegen worker` the drain run starts from this same binary, with this environment.
private final class WorkerProcess {
    private let process = Process()

    init(concurrency: Int) throws {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["worker", "--concurrency", String(concurrency)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    var peakMemory: Double? { peakResidentMebibytes(pid: process.processIdentifier) }

    /// SIGTERM, then waits for the worker to hand back and stop.
    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

/// The submissions' latencies and failures, shared by the tasks that send them.
private final class SubmissionLog: Sendable {
    private let state = Mutex<(latencies: [Double], failures: [String], claimed: Int, turns: Int)>(([], [], 0, 0))

    /// Which key's turn it is to submit, counting up.
    func nextTurn() -> Int {
        state.withLock { state in
            defer { state.turns += 1 }
            return state.turns
        }
    }

    /// The number of the next submission a closed-loop sender may make.
    func claim() -> Int {
        state.withLock { state in
            defer { state.claimed += 1 }
            return state.claimed
        }
    }

    func accepted(_ milliseconds: Double) { state.withLock { $0.latencies.append(milliseconds) } }
    func failed(_ reason: String) { state.withLock { $0.failures.append(reason) } }
    var results: ([Double], [String]) { state.withLock { ($0.latencies, $0.failures) } }
}
