import CurlClient
import Foundation
import Hummingbird
import ImagegenAPI
import ImagegenCore
import ImagegenProvider
import ImagegenProviderGate
import ImagegenQueue
import ImagegenStore
import ImagegenTelemetry
import ImagegenWorker
import Logging
import MockProvider
import PostgresClient
import Prometheus
import RedisClient
import Testing

/// The API, a worker and the mock provider, started for one test on free ports.
final class RunningSystem: Sendable {
    let database: Database
    let queue: TaskQueue
    let apiBaseURL: String
    let providerBaseURL: String
    /// The base URLs of the providers started besides the default one, by name: each a mock of its own.
    let otherProviderBaseURLs: [String: String]
    let redisURL: RedisURL
    let client: CurlMultiClient
    /// The API's LISTEN connection, by its `application_name` in `pg_stat_activity`.
    let listenerApplicationName: String
    private let tasks: [Task<Void, Never>]

    private init(
        database: Database, queue: TaskQueue, apiBaseURL: String, providerBaseURL: String, otherProviderBaseURLs: [String: String],
        redisURL: RedisURL, client: CurlMultiClient, listenerApplicationName: String, tasks: [Task<Void, Never>]
    ) {
        self.database = database
        self.queue = queue
        self.apiBaseURL = apiBaseURL
        self.providerBaseURL = providerBaseURL
        self.otherProviderBaseURLs = otherProviderBaseURLs
        self.redisURL = redisURL
        self.client = client
        self.listenerApplicationName = listenerApplicationName
        self.tasks = tasks
    }

    /// The tests' cap on a provider answer: above the largest image a test asks for, far below the mock's 50 MB hostile body.
    static let providerMaxResponseBytes = 8 << 20

    static let testBackoff = BackoffPolicy(baseMilliseconds: 20, factor: 2, capMilliseconds: 200, maxAttempts: 3)

    /// The models OpenAI has retired, kept available here: most tests are about the queue,
    /// and DALL-E's flat prices keep their sums simple. `ModelLifecycleTests` starts without them.
    static let retiredModels: Set<String> = ["dall-e-2", "dall-e-3", "gpt-image-1"]

    /// Starts everything; `worker: nil` leaves tasks in the queue untouched.
    static func start(
        backoff: BackoffPolicy = testBackoff,
        plan: FaultPlan = FaultPlan(),
        worker options: Worker.Options? = .init(concurrency: 8, leaseMilliseconds: 3_000, reconcileInterval: .seconds(1)),
        gate: GateSettings = GateSettings(),
        providerKeys: [String] = ["sk-test"],
        provider providerAPI: TestProviderAPI = .openAI(.openAI),
        otherProviders: [String: TestProviderAPI] = [:],
        redisURL: RedisURL? = nil,
        submissionRate: SubmissionRateLimit = .off,
        redisClock: RedisClock = .server,
        taskDeadline: Duration = TaskStore.defaultDeadline,
        spend: SpendPolicy = SpendPolicy(),
        waitersPerUser: Int = 16,
        streamIdleTimeout: Duration = .seconds(300),
        queueSampleInterval: Duration = .seconds(5),
        defaultModel: String = "dall-e-3",
        keptModels: Set<String> = RunningSystem.retiredModels
    ) async throws -> RunningSystem {
        let logger = TestEnvironment.logger
        let database = try await TestEnvironment.database()
        let redisURL = try redisURL ?? TestEnvironment.redisURL()
        let queue = TaskQueue(name: TestEnvironment.uniqueQueueName(), url: redisURL, connections: 2, logger: logger)
        var tasks: [Task<Void, Never>] = []

        let mock = MockProviderServer(plan: plan, recordCalls: true)
        let providerPort = try await serve({ mock.makeApplication(host: "127.0.0.1", port: 0, logger: logger, onServerRunning: $0) }, into: &tasks)
        let providerBaseURL = "http://127.0.0.1:\(providerPort)" + providerAPI.versionPath
        var otherProviderBaseURLs: [String: String] = [:]
        for (name, api) in otherProviders {
            let other = MockProviderServer(plan: plan, recordCalls: true)
            let port = try await serve({ other.makeApplication(host: "127.0.0.1", port: 0, logger: logger, onServerRunning: $0) }, into: &tasks)
            otherProviderBaseURLs[name] = "http://127.0.0.1:\(port)" + api.versionPath
        }

        let changes = TaskChangeListener(connectionString: try TestEnvironment.databaseURL(), logger: logger)
        let apiPort = try await serve({
            try APIServer.makeApplication(
                .init(
                    database: database, queue: queue,
                    changes: changes, backoff: backoff, taskDeadline: taskDeadline, spend: spend,
                    defaultModel: defaultModel, keptModels: keptModels,
                    submissionRate: submissionRate, redisURL: redisURL, redisClock: redisClock,
                    waitersPerUser: waitersPerUser, streamIdleTimeout: streamIdleTimeout,
                    providerGate: ProviderGate(endpoint: providerBaseURL, keyIDs: [], settings: gate, url: redisURL, logger: logger),
                    queueSampleInterval: queueSampleInterval
                ),
                host: "127.0.0.1", port: 0, logger: logger,
                operations: OperationsRoutes(
                    registry: PrometheusCollectorRegistry(),
                    dependencies: [.init(name: "postgres") { try await database.ping() }, .init(name: "redis") { try await queue.ping() }]
                ),
                onServerRunning: $0
            )
        }, into: &tasks)
        let client = CurlMultiClient()
        if let options {
            func route(_ name: String, _ api: TestProviderAPI, baseURL: String) -> ProviderRoute {
                let provider = api.provider(client: client, baseURL: baseURL, apiKeys: providerKeys)
                return ProviderRoute(
                    name: name, provider: provider,
                    gate: ProviderGate(endpoint: baseURL, keyIDs: provider.keyIDs, settings: gate, url: redisURL, logger: logger)
                )
            }
            let routes = ProviderRoutes(
                [route("openai", providerAPI, baseURL: providerBaseURL)]
                    + otherProviders.sorted { $0.key < $1.key }.map { route($0.key, $0.value, baseURL: otherProviderBaseURLs[$0.key]!) }
            )
            let worker = makeWorker(queue: queue, database: database, routes: routes, backoff: backoff, options: options)
            tasks.append(Task { await worker.run() })
        }
        return RunningSystem(
            database: database, queue: queue, apiBaseURL: "http://127.0.0.1:\(apiPort)", providerBaseURL: providerBaseURL,
            otherProviderBaseURLs: otherProviderBaseURLs, redisURL: redisURL, client: client, listenerApplicationName: changes.applicationName, tasks: tasks
        )
    }

    /// A worker whose one provider is `provider`, named `openai` as the models' routes name it.
    static func makeWorker(
        queue: TaskQueue, database: Database, provider: any ImageProvider, gate: ProviderGate, backoff: BackoffPolicy = testBackoff,
        options: Worker.Options
    ) -> Worker {
        makeWorker(
            queue: queue, database: database, routes: ProviderRoutes([ProviderRoute(name: "openai", provider: provider, gate: gate)]),
            backoff: backoff, options: options
        )
    }

    static func makeWorker(
        queue: TaskQueue, database: Database, routes: ProviderRoutes, backoff: BackoffPolicy = testBackoff, options: Worker.Options
    ) -> Worker {
        let logger = TestEnvironment.logger
        return Worker(
            queue: queue,
            processor: TaskProcessor(
                attempts: AttemptStore(database: database, takeoverAfter: .milliseconds(options.leaseMilliseconds)), queue: queue,
                routes: routes, logger: logger
            ),
            // A connection of the worker's own, as `imagegen worker` has: heartbeats never wait behind other tests' queries.
            heartbeats: AttemptStore(
                database: Database(connectionString: try! TestEnvironment.databaseURL(), connections: 1, logger: logger),
                takeoverAfter: .milliseconds(options.leaseMilliseconds)
            ),
            reconciler: Reconciler(
                queue: queue, recovery: RecoveryStore(database: database), backoff: backoff,
                leaseMilliseconds: options.leaseMilliseconds, settleMilliseconds: 200, logger: logger
            ),
            options: options,
            logger: logger
        )
    }

    /// Another worker on this system's queue, database and provider, for a test to run and stop itself.
    func makeWorker(_ options: Worker.Options, providerTimeoutMilliseconds: Int = 60_000, gate settings: GateSettings = GateSettings()) -> Worker {
        let provider = OpenAIImagesProvider(
            client: client, baseURL: providerBaseURL, apiKeys: ["sk-test"], timeoutMilliseconds: providerTimeoutMilliseconds
        )
        return Self.makeWorker(
            queue: queue, database: database, provider: provider, gate: gate(keyIDs: provider.keyIDs, settings: settings), options: options
        )
    }

    /// How many calls the mock provider (or the named other provider's mock) received for each prompt.
    func providerCalls(on provider: String? = nil) async throws -> [String: Int] {
        try await mockCounts("calls", root: provider.map { Self.root(of: otherProviderBaseURLs[$0]!) } ?? mockRoot)
    }

    /// How many calls the mock answered with images for each prompt: the calls a provider bills.
    func providerBilledCalls() async throws -> [String: Int] {
        try await mockCounts("served")
    }

    /// The mock provider's own address, without any API's version path.
    private var mockRoot: String { Self.root(of: providerBaseURL) }

    private static func root(of baseURL: String) -> String {
        let url = URL(string: baseURL)!
        return "http://\(url.host!):\(url.port!)"
    }

    private func mockCounts(_ field: String, root: String? = nil) async throws -> [String: Int] {
        let base = root ?? mockRoot
        let response = try await client.send(CurlRequest(url: base + "/_mock/calls", timeoutMilliseconds: 60_000))
        let calls = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: Int]] ?? [:]
        return calls.mapValues { $0[field] ?? 0 }
    }

    /// Lets the mock provider (or the named other provider's mock) answer every call that a
    /// `[mock:hold]` prompt holds, now and from now on, and moves its `[mock:queued]` predictions on a state.
    func releaseHeldCalls(on provider: String? = nil) async throws {
        let base = provider.map { Self.root(of: otherProviderBaseURLs[$0]!) } ?? mockRoot
        let response = try await client.send(CurlRequest(method: "POST", url: base + "/_mock/release", timeoutMilliseconds: 60_000))
        guard response.status == 200 else { throw TestEnvironment.Missing(description: "the mock did not release its held calls") }
    }

    /// A gate on this system's provider endpoint: it shares its state with the workers' gates.
    func gate(keyIDs: [String] = [SHA256.fingerprint("sk-test")], settings: GateSettings = GateSettings()) -> ProviderGate {
        ProviderGate(endpoint: providerBaseURL, keyIDs: keyIDs, settings: settings, url: redisURL, logger: TestEnvironment.logger)
    }

    /// Runs an application in the background and returns the port it bound.
    static func serve<App: ApplicationProtocol>(
        _ make: (@escaping @Sendable (Int) async -> Void) throws -> App, into tasks: inout [Task<Void, Never>]
    ) async throws -> Int {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let application = try make { port in continuation.yield(port) }
        tasks.append(Task { try? await application.run() })
        for await port in ports { return port }
        throw TestEnvironment.Missing(description: "server did not start")
    }

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    // MARK: - Client calls

    struct HTTPResult {
        let status: Int
        let headers: [String: String]
        let json: [String: Any]
        let body: [UInt8]

        /// The `code` of an error answer.
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    func request(
        _ method: String, _ path: String, key: String?, body: String? = nil, headers extra: [(name: String, value: String)] = []
    ) async throws -> HTTPResult {
        let declaresType = extra.contains { $0.name.lowercased() == "content-type" }
        var headers: [(name: String, value: String)] = (declaresType ? [] : [("Content-Type", "application/json")]) + extra
        if let key { headers.append(("Authorization", "Bearer \(key)")) }
        let response = try await client.send(CurlRequest(
            method: method, url: apiBaseURL + path, headers: headers, body: Array((body ?? "").utf8), timeoutMilliseconds: 60_000
        ))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return HTTPResult(status: response.status, headers: response.headers, json: json, body: response.body)
    }

    func submit(key: String, _ body: String, idempotencyKey: String? = nil) async throws -> HTTPResult {
        try await request("POST", "/images/generate", key: key, body: body, headers: idempotencyKey.map { [("Idempotency-Key", $0)] } ?? [])
    }

    /// Polls a task's status until it is `status`; records an issue if that takes longer than `timeout`,
    /// a liveness guard several times what a loaded machine needs.
    func waitForStatus(_ status: TaskStatus, taskID: String, key: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await request("GET", "/images/tasks/\(taskID)/status", key: key).json["status"] as? String != status.rawValue {
            guard ContinuousClock.now < deadline else {
                Issue.record("task \(taskID) did not reach \(status.rawValue) within \(timeout)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Polls a task's status until it is terminal (or `timeout`, a liveness guard, passes) and returns the last answer.
    func waitForTerminal(taskID: String, key: String, timeout: Duration = .seconds(60)) async throws -> HTTPResult {
        let deadline = ContinuousClock.now + timeout
        while true {
            let result = try await request("GET", "/images/tasks/\(taskID)/status", key: key)
            let status = result.json["status"] as? String ?? ""
            if TaskStatus(rawValue: status)?.isTerminal == true || ContinuousClock.now > deadline { return result }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func createUser(name: String = "test-user") async throws -> (User, String) {
        let (user, key) = try await UserStore(database: database).createUser(name: name)
        return (user, key.secret)
    }
}
