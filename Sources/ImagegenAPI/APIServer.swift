import Hummingbird
import ImagegenCore
import ImagegenQueue
import ImagegenStore
import ImagegenTelemetry
import Logging
import NIOCore

/// The HTTP API process: accepts image requests and answers status polls.
public enum APIServer {
    /// Requests larger than this are refused with 413; the longest prompt (32,000
    /// characters of up to 4 UTF-8 bytes) still fits.
    public static let maxBodyBytes = 256 * 1024

    public struct Dependencies: Sendable {
        public var database: Database
        public var queue: TaskQueue
        public var backoff: BackoffPolicy
        public var spend: SpendPolicy
        public var defaultModel: String

        public init(
            database: Database, queue: TaskQueue, backoff: BackoffPolicy, spend: SpendPolicy = SpendPolicy(),
            defaultModel: String = "dall-e-3"
        ) {
            self.database = database
            self.queue = queue
            self.backoff = backoff
            self.spend = spend
            self.defaultModel = defaultModel
        }
    }

    /// - Parameter operations: `/healthz`, `/readyz` and `/metrics`, when the process exposes them.
    public static func makeApplication(
        _ dependencies: Dependencies,
        host: String,
        port: Int,
        logger: Logger,
        operations: OperationsRoutes? = nil,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        operations?.register(on: router)
        let users = UserStore(database: dependencies.database)
        let spend = SpendStore(database: dependencies.database, policy: dependencies.spend)
        ImageRoutes(
            users: users,
            tasks: TaskStore(database: dependencies.database),
            spend: spend,
            queue: dependencies.queue,
            catalog: CatalogCache(store: CatalogStore(database: dependencies.database), defaultModel: dependencies.defaultModel),
            backoff: dependencies.backoff
        ).register(on: router)
        UsageRoutes(users: users, spend: spend).register(on: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "imagegen"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}
