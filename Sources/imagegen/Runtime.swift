import ImagegenCore
import ImagegenProviderGate
import ImagegenQueue
import ImagegenStore
import ImagegenTelemetry
import Logging
import Prometheus

/// A fatal start-up problem, printed as one line by the command-line parser.
struct StartupFailure: Error, CustomStringConvertible {
    let description: String
}

/// The connections every command that touches storage opens, each checked at start.
struct Runtime {
    let configuration: Configuration
    let logger: Logger
    let database: Database
    let metrics: PrometheusCollectorRegistry

    static func start(label: String) async throws -> Runtime {
        let configuration = try Configuration.fromEnvironment()
        let metrics = Telemetry.bootstrap(
            logFormat: configuration.logFormat, logLevel: Logger.Level(rawValue: configuration.logLevel) ?? .info
        )
        let logger = Logger(label: label)
        let database = Database(
            connectionString: configuration.databaseURL, connections: configuration.databaseConnections, logger: logger
        )
        do {
            try await database.connect()
        } catch {
            throw StartupFailure(description: "DATABASE_URL: cannot connect to PostgreSQL at \(configuration.redactedDatabaseURL): \(error)")
        }
        return Runtime(configuration: configuration, logger: logger, database: database, metrics: metrics)
    }

    /// `/healthz`, `/readyz` (PostgreSQL and Redis answer) and `/metrics`, with the queue's
    /// depth (and, on workers, the provider gate's breaker and keys) read at each scrape.
    func operationsRoutes(queue: TaskQueue, gate: ProviderGate? = nil) -> OperationsRoutes {
        let database = self.database, gauges = QueueGauges(queue: queue.name)
        return OperationsRoutes(
            registry: metrics,
            dependencies: [
                .init(name: "postgres") { try await database.ping() },
                .init(name: "redis") { try await queue.ping() },
            ],
            beforeScrape: {
                if let stats = try? await queue.stats() { gauges.record(stats) }
                await gate?.recordGauges()
            }
        )
    }

    /// The gate shared by every worker calling `provider` (the default one when nil);
    /// `keyIDs` may be empty for reading its status only. Named by the provider and its URL:
    /// two providers behind one address (a gateway, the mock) still have a breaker each.
    func providerGate(for provider: ProviderEndpoint? = nil, keyIDs: [String]) -> ProviderGate {
        let provider = provider ?? configuration.providers[0]
        let settings = provider.imagesPerMinute.map(configuration.gate.limiting) ?? configuration.gate
        return ProviderGate(
            endpoint: "\(provider.name) \(provider.baseURL)", keyIDs: keyIDs, settings: settings, url: configuration.redisURL, logger: logger
        )
    }

    func connectQueue(named name: String? = nil) async throws -> TaskQueue {
        let queue = TaskQueue(
            name: name ?? configuration.queueName, url: configuration.redisURL, connections: configuration.redisConnections, logger: logger
        )
        do {
            try await queue.connect()
        } catch {
            throw StartupFailure(description: "REDIS_URL: cannot connect to Redis at \(configuration.redisURL): \(error)")
        }
        return queue
    }
}
