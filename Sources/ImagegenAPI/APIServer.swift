import Hummingbird
import ImagegenCore
import ImagegenProviderGate
import ImagegenQueue
import ImagegenStore
import ImagegenTelemetry
import Logging
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime
import RedisClient
import ServiceLifecycle

/// The HTTP API process: accepts image requests and answers status polls.
public enum APIServer {
    /// Requests larger than this are refused with 413; the longest prompt (32,000
    /// characters of up to 4 UTF-8 bytes) still fits.
    public static let maxBodyBytes = 256 * 1024

    public struct Dependencies: Sendable {
        public var database: Database
        public var queue: TaskQueue
        public var changes: TaskChangeListener
        public var backoff: BackoffPolicy
        /// How long a task may wait to start before it fails as `expired`.
        public var taskDeadline: Duration
        public var spend: SpendPolicy
        public var defaultModel: String
        /// Models kept available past their retirement in this deployment (KEEP_MODELS).
        public var keptModels: Set<String>
        public var submissionRate: SubmissionRateLimit
        public var redisURL: RedisURL
        /// Where the submission rate limit reads the time; Redis' own outside tests.
        public var redisClock: RedisClock
        /// Long polls and event streams one user may hold open in this process at once.
        public var waitersPerUser: Int
        /// An event stream with no change for this long ends.
        public var streamIdleTimeout: Duration
        /// The provider gate whose breaker and keys the operator view shows.
        public var providerGate: ProviderGate
        /// How often the operator view's queue history is sampled.
        public var queueSampleInterval: Duration

        /// - Parameter changes: wakes long polls and event streams; `makeApplication` runs it.
        public init(
            database: Database, queue: TaskQueue, changes: TaskChangeListener, backoff: BackoffPolicy,
            taskDeadline: Duration = TaskStore.defaultDeadline, spend: SpendPolicy = SpendPolicy(),
            defaultModel: String = "gpt-image-2", keptModels: Set<String> = [], submissionRate: SubmissionRateLimit = .off, redisURL: RedisURL,
            redisClock: RedisClock = .server, waitersPerUser: Int = 16, streamIdleTimeout: Duration = .seconds(300),
            providerGate: ProviderGate, queueSampleInterval: Duration = .seconds(5)
        ) {
            self.database = database
            self.queue = queue
            self.changes = changes
            self.backoff = backoff
            self.taskDeadline = taskDeadline
            self.spend = spend
            self.defaultModel = defaultModel
            self.keptModels = keptModels
            self.submissionRate = submissionRate
            self.redisURL = redisURL
            self.redisClock = redisClock
            self.waitersPerUser = waitersPerUser
            self.streamIdleTimeout = streamIdleTimeout
            self.providerGate = providerGate
            self.queueSampleInterval = queueSampleInterval
        }
    }

    /// The handlers of every operation in openapi.json, with what they use.
    static func handlers(_ dependencies: Dependencies, history: QueueHistory, feeder: QueueFeeder, logger: Logger) -> APIHandlers {
        APIHandlers(
            tasks: TaskStore(database: dependencies.database),
            spend: SpendStore(database: dependencies.database, policy: dependencies.spend),
            users: UserStore(database: dependencies.database),
            admin: TaskAdminStore(database: dependencies.database),
            operators: OperatorSources(gate: dependencies.providerGate, history: history, database: dependencies.database),
            queue: dependencies.queue,
            feeder: feeder,
            catalog: CatalogCache(
                store: CatalogStore(database: dependencies.database), defaultModel: dependencies.defaultModel,
                keptModels: dependencies.keptModels
            ),
            backoff: dependencies.backoff,
            taskDeadline: dependencies.taskDeadline,
            changes: dependencies.changes,
            waiters: WaiterLimit(perUser: dependencies.waitersPerUser),
            streamIdleTimeout: dependencies.streamIdleTimeout,
            logger: logger
        )
    }

    /// The API's router: `/openapi.json` and the console's files open to anyone, every operation of the document on
    /// one group behind `AuthenticationMiddleware`, routed by the generated code.
    ///
    /// - Parameter operations: `/healthz`, `/readyz` and `/metrics`, when the process exposes them.
    static func router(
        _ dependencies: Dependencies, history: QueueHistory, feeder: QueueFeeder, logger: Logger, operations: OperationsRoutes?
    ) throws -> Router<BasicRequestContext> {
        let document = OpenAPIDocument.shipped
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware(document: document))
        operations?.register(on: router)
        document.register(on: router)
        ConsoleRoutes.shipped.register(on: router)
        let authenticated = router.group().add(middleware: AuthenticationMiddleware(users: UserStore(database: dependencies.database)))
        var middlewares: [any ServerMiddleware] = [
            IgnoreAcceptMiddleware(), ParameterCheckMiddleware(document: document),
            JSONBodyMiddleware(operations: document.operationsWithJSONBodies), RawResponseMiddleware(),
        ]
        if dependencies.submissionRate.perMinute > 0 {
            middlewares.insert(SubmissionRateLimitMiddleware(limiter: SubmissionRateLimiter(
                limit: dependencies.submissionRate, url: dependencies.redisURL, clock: dependencies.redisClock, logger: logger
            )), at: 0)
        }
        try handlers(dependencies, history: history, feeder: feeder, logger: logger).registerHandlers(
            on: authenticated, configuration: APIHandlers.configuration, middlewares: middlewares
        )
        return router
    }

    /// - Parameter operations: `/healthz`, `/readyz` and `/metrics`, when the process exposes them.
    public static func makeApplication(
        _ dependencies: Dependencies,
        host: String,
        port: Int,
        logger: Logger,
        operations: OperationsRoutes? = nil,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let history = QueueHistory()
        let feeder = QueueFeeder(queue: dependencies.queue, logger: logger)
        return Application(
            router: try router(dependencies, history: history, feeder: feeder, logger: logger, operations: operations),
            configuration: .init(address: .hostname(host, port: port), serverName: "imagegen"),
            services: [
                TaskChangeService(listener: dependencies.changes),
                QueueSampler(queue: dependencies.queue, history: history, interval: dependencies.queueSampleInterval, logger: logger),
                // Listed before the server, which ServiceLifecycle stops first: the feeder drains after the last request.
                feeder,
            ],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}

/// Runs the task change listener for as long as the API runs.
private struct TaskChangeService: Service {
    let listener: TaskChangeListener

    func run() async throws {
        await cancelWhenGracefulShutdown { await listener.run() }
    }
}
