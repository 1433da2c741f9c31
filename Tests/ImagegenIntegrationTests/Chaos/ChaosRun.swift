import CurlClient
import Foundation
import ImagegenStore
import Logging
import PostgresClient

/// The chaos suite: the real system as separate processes (API, several workers, the
/// mock provider with faults on) on its own Redis and PostgreSQL, under load, while
/// workers are SIGKILLed again and again, Redis crashes and restarts, Redis is flushed,
/// and PostgreSQL restarts. Afterwards PostgreSQL is asked what became of every task.
struct ChaosRun {
    struct Settings {
        var tasks = 300
        var loadSeconds = 15
        var workers = 3
        var concurrency = 8
        var drainSeconds = 90

        /// Reads `IMAGEGEN_CHAOS_TASKS`, `_SECONDS`, `_WORKERS` and `_CONCURRENCY` (set by `scripts/chaos`).
        static func fromEnvironment() -> Settings {
            let environment = ProcessInfo.processInfo.environment
            var settings = Settings()
            if let value = environment["IMAGEGEN_CHAOS_TASKS"].flatMap(Int.init) { settings.tasks = value }
            if let value = environment["IMAGEGEN_CHAOS_SECONDS"].flatMap(Int.init) { settings.loadSeconds = value }
            if let value = environment["IMAGEGEN_CHAOS_WORKERS"].flatMap(Int.init) { settings.workers = value }
            if let value = environment["IMAGEGEN_CHAOS_CONCURRENCY"].flatMap(Int.init) { settings.concurrency = value }
            settings.drainSeconds = max(90, settings.loadSeconds)
            return settings
        }
    }

    struct Fault {
        let name: String
        let started: Date
        /// When the fault was over: the server answered again, or the replacement worker was started.
        let at: Date
    }

    let settings: Settings
    private let servers: ChaosServers
    private let runID = UUID().uuidString.prefix(8).lowercased()
    private let providerPort: Int
    private let apiPort: Int

    init(settings: Settings) throws {
        self.settings = settings
        servers = try ChaosServers()
        providerPort = try ChildProcess.freePort()
        apiPort = try ChildProcess.freePort()
    }

    private var environment: [String: String] {
        get throws {
            [
                "DATABASE_URL": servers.databaseURL,
                "REDIS_URL": servers.redisURL,
                "MIGRATIONS_DIR": try TestEnvironment.migrationsDirectory(),
                "OPENAI_BASE_URL": "http://127.0.0.1:\(providerPort)/v1",
                "OPENAI_API_KEY": "sk-chaos",
                "PORT": String(apiPort),
                "PROVIDER_TIMEOUT_SECONDS": "2",
                "RETRY_BASE_MS": "200",
                "RETRY_CAP_MS": "2000",
                "LOG_LEVEL": "notice",
                "BREAKER_COOLDOWN_SECONDS": "2",
                // One user submits the whole load, far faster than the per-user default allows.
                "SUBMIT_RATE_PER_MINUTE": "0",
                // A flat price per image, so that a task charged twice shows in the sums.
                "DEFAULT_MODEL": "dall-e-3", "KEEP_MODELS": "dall-e-3",
            ]
        }
    }

    func run() async throws -> ChaosReport {
        try await servers.start()
        do {
            let report = try await load()
            await servers.stop()
            return report
        } catch {
            await servers.stop()
            throw error
        }
    }

    private func load() async throws -> ChaosReport {
        let environment = try self.environment
        guard try await ChildProcess.run(["migrate"], environment: environment).status == 0 else {
            throw TestEnvironment.Missing(description: "migrate failed")
        }
        let created = try await ChildProcess.run(["admin", "users", "create", "--name", "chaos"], environment: environment)
        guard let key = created.output.split(separator: "\n").first(where: { $0.hasPrefix("api_key: ") })?.dropFirst(9) else {
            throw TestEnvironment.Missing(description: "could not create the chaos user: \(created.error)")
        }
        let provider = try ChildProcess([
            "mock-provider", "--port", String(providerPort), "--latency-ms", "150", "--latency-jitter-ms", "300",
            "--rate-500", "0.2", "--rate-429", "0.1", "--retry-after", "1", "--rate-malformed", "0.05",
            "--rate-hang", "0.02", "--hang-seconds", "10", "--record-calls", "--seed", "\(UInt64.random(in: 1...UInt64.max))",
        ], environment: environment)
        let api = try ChildProcess(["serve"], environment: environment)
        let workerArguments = [
            "worker", "--concurrency", String(settings.concurrency), "--lease-seconds", "2",
            "--reconcile-interval-seconds", "1",
        ]
        let workers = Shared(try (0..<settings.workers).map { _ in try ChildProcess(workerArguments, environment: environment) })
        let client = CurlMultiClient()
        try await waitUntilUp(client)

        let accepted = Shared<[String]>([])
        let faults = Shared<[Fault]>([])
        let loadStarted = Date()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await submitLoad(client: client, key: String(key), into: accepted) }
            group.addTask {
                await injectFaults(workers: workers, workerArguments: workerArguments, environment: environment, log: faults)
            }
        }
        let drainStarted = Date()
        let database = Database(connectionString: servers.databaseURL, connections: 1, logger: Logger(label: "chaos"))
        let ids = accepted.withLock { $0 }
        try await waitForDrain(database, ids: ids)
        let drained = Date()
        let calls = try await providerCalls(client)
        let report = try await ChaosReport.load(
            database: database, accepted: ids, faults: faults.withLock { $0 }, calls: calls, runID: String(runID),
            settings: settings, loadSeconds: drainStarted.timeIntervalSince(loadStarted),
            drainSeconds: drained.timeIntervalSince(drainStarted)
        )
        for worker in workers.withLock({ $0 }) { _ = await worker.terminate() }
        _ = await api.terminate()
        _ = await provider.terminate()
        return report
    }

    /// Submits the tasks at an even pace over the load period, like a client would:
    /// a failed or unanswered POST is retried with the same Idempotency-Key.
    private func submitLoad(client: CurlMultiClient, key: String, into accepted: Shared<[String]>) async {
        let submitters = 16
        let interval = Double(settings.loadSeconds) / Double(max(settings.tasks, 1))
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for submitter in 0..<submitters {
                group.addTask {
                    for index in stride(from: submitter, to: settings.tasks, by: submitters) {
                        try? await Task.sleep(until: started + .milliseconds(Int(Double(index) * interval * 1000)))
                        if let taskID = await submit(client: client, key: key, index: index) {
                            accepted.withLock { $0.append(taskID) }
                        }
                    }
                }
            }
        }
    }

    private func submit(client: CurlMultiClient, key: String, index: Int) async -> String? {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let response = try? await client.send(CurlRequest(
                method: "POST", url: "http://127.0.0.1:\(apiPort)/images/generate",
                headers: [
                    ("Authorization", "Bearer \(key)"), ("Content-Type", "application/json"),
                    ("Idempotency-Key", "chaos-\(runID)-\(index)"),
                ],
                body: Array(#"{"prompt": "\#(ChaosReport.prompt(runID: String(runID), index: index))"}"#.utf8),
                timeoutMilliseconds: 5_000
            )), response.status == 202,
               let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
               let taskID = json["task_id"] as? String {
                return taskID
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    /// Kills a random worker every few seconds and starts a new one in its place; crashes
    /// and restarts Redis at a quarter of the load, flushes it at half, restarts PostgreSQL
    /// at three quarters.
    private func injectFaults(
        workers: Shared<[ChildProcess]>, workerArguments: [String], environment: [String: String], log: Shared<[Fault]>
    ) async {
        let started = ContinuousClock.now
        let total = Duration.seconds(settings.loadSeconds)
        let killEvery = min(Duration.seconds(3), total / 6)
        var storageFaults: [(Duration, String, @Sendable () async throws -> Void)] = [
            (total / 4, "Redis crash and restart", servers.crashAndRestartRedis),
            (total / 2, "Redis FLUSHALL", servers.flushRedis),
            (total * 3 / 4, "PostgreSQL restart", servers.restartPostgres),
        ]
        var nextKill = started + killEvery
        while ContinuousClock.now < started + total || !storageFaults.isEmpty {
            if let (offset, name, action) = storageFaults.first, ContinuousClock.now >= started + offset {
                storageFaults.removeFirst()
                let started = Date()
                if (try? await action()) != nil { log.withLock { $0.append(Fault(name: name, started: started, at: Date())) } }
            }
            if ContinuousClock.now >= nextKill {
                nextKill += killEvery
                let index = Int.random(in: 0..<settings.workers)
                let victim = workers.withLock { $0[index] }
                let started = Date()
                await victim.kill()
                if let replacement = try? ChildProcess(workerArguments, environment: environment) {
                    workers.withLock { $0[index] = replacement }
                }
                log.withLock { $0.append(Fault(name: "worker SIGKILL", started: started, at: Date())) }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func waitForDrain(_ database: Database, ids: [String]) async throws {
        let deadline = ContinuousClock.now + .seconds(settings.drainSeconds)
        while ContinuousClock.now < deadline {
            let unfinished = try? await database.run { connection in
                try connection.query("SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'running', 'retrying')").first?.int("n")
            }
            if unfinished == 0 { return }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func providerCalls(_ client: CurlMultiClient) async throws -> [String: (calls: Int, served: Int)] {
        let response = try await client.send(CurlRequest(url: "http://127.0.0.1:\(providerPort)/_mock/calls", timeoutMilliseconds: 10_000))
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: Int]] ?? [:]
        return json.mapValues { ($0["calls"] ?? 0, $0["served"] ?? 0) }
    }

    private func waitUntilUp(_ client: CurlMultiClient) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        for url in ["http://127.0.0.1:\(apiPort)/healthz", "http://127.0.0.1:\(providerPort)/_mock/stats"] {
            while true {
                if let response = try? await client.send(CurlRequest(url: url, timeoutMilliseconds: 1_000)), response.status == 200 { break }
                guard ContinuousClock.now < deadline else { throw TestEnvironment.Missing(description: "\(url) did not come up") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}
