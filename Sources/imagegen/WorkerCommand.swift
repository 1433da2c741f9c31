import ArgumentParser
import CurlClient
import Hummingbird
import ImagegenProvider
import ImagegenProviderGate
import ImagegenStore
import ImagegenWorker
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run a worker that takes tasks from the queue and calls the provider."
    )

    @Option(help: "How many tasks this process works on at once.")
    var concurrency: Int = 16

    @Option(help: "Seconds a lease lasts without a heartbeat; a crashed worker's tasks run again after this.")
    var leaseSeconds: Int = 15

    @Option(help: "Seconds between reconciliations of the queue against PostgreSQL.")
    var reconcileIntervalSeconds: Int = 5

    @Option(help: "Serve /healthz, /readyz and /metrics on this port (on HOST); off when not given.")
    var httpPort: Int?

    func validate() throws {
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 10000") }
        guard (1...3_600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be from 1 to 3600") }
        guard (1...3_600).contains(reconcileIntervalSeconds) else {
            throw ValidationError("--reconcile-interval-seconds must be from 1 to 3600")
        }
        if let httpPort, !(1...65_535).contains(httpPort) { throw ValidationError("--http-port must be from 1 to 65535") }
    }

    func run() async throws {
        let runtime = try await Runtime.start(label: "imagegen.worker")
        let configuration = runtime.configuration
        for provider in configuration.providers where provider.apiKeys.isEmpty {
            let variable = provider == configuration.providers[0]
                ? "OPENAI_API_KEY: not set (nor OPENAI_API_KEYS)"
                : "PROVIDER_\(provider.name.uppercased().replacingOccurrences(of: "-", with: "_"))_API_KEYS: not set"
            throw StartupFailure(description: "\(variable); the worker needs a key for the provider '\(provider.name)' (any value for the mock provider)")
        }
        let queue = try await runtime.connectQueue()
        if let policy = try? await queue.evictionPolicy(), policy != "noeviction" {
            runtime.logger.warning(
                "Redis maxmemory-policy is \(policy): queue keys may be evicted under memory pressure; set it to noeviction"
            )
        }
        // Every call in flight holds a connection to its provider; all of them stay open for the next calls.
        let client = CurlMultiClient(connections: concurrency)
        let routes = ProviderRoutes(configuration.providers.map { endpoint in
            let provider = endpoint.imageProvider(client: client, configuration: configuration)
            return ProviderRoute(name: endpoint.name, provider: provider, gate: runtime.providerGate(for: endpoint, keyIDs: provider.keyIDs))
        })
        let leaseMilliseconds = Int64(leaseSeconds) * 1000
        let heartbeatDatabase = Database(connectionString: configuration.databaseURL, connections: 1, logger: runtime.logger)
        let worker = Worker(
            queue: queue,
            processor: TaskProcessor(
                attempts: AttemptStore(database: runtime.database, spend: configuration.spend, takeoverAfter: .milliseconds(leaseMilliseconds)),
                queue: queue, routes: routes, logger: runtime.logger
            ),
            heartbeats: AttemptStore(database: heartbeatDatabase, takeoverAfter: .milliseconds(leaseMilliseconds)),
            reconciler: Reconciler(
                queue: queue, recovery: RecoveryStore(database: runtime.database), backoff: configuration.backoff,
                leaseMilliseconds: leaseMilliseconds,
                imageRetention: configuration.imageRetentionDays.map {
                    ImageRetention(store: RetentionStore(database: runtime.database), period: .seconds($0 * 86_400))
                },
                logger: runtime.logger
            ),
            options: .init(
                concurrency: concurrency, leaseMilliseconds: leaseMilliseconds, shutdownGrace: configuration.workerShutdownGrace,
                reconcileInterval: .seconds(reconcileIntervalSeconds)
            ),
            logger: runtime.logger
        )
        var services: [any Service] = [WorkerService(worker: worker)]
        if let httpPort {
            let router = Router()
            // The gate gauges carry no provider label yet: they show the default provider's gate.
            runtime.operationsRoutes(queue: queue, gate: routes.standard.gate).register(on: router)
            services.append(Application(
                router: router, configuration: .init(address: .hostname(configuration.host, port: httpPort), serverName: "imagegen-worker"),
                logger: runtime.logger
            ))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger)
        try await group.run()
    }
}

extension ProviderEndpoint {
    /// The client for this provider's API.
    func imageProvider(client: CurlMultiClient, configuration: Configuration) -> any ImageProvider {
        let timeout = configuration.providerTimeoutMilliseconds, maxBytes = configuration.providerMaxResponseBytes
        let longestRetryAfter = configuration.providerLongestRetryAfterMilliseconds
        return switch api {
        case .openAI(let dialect):
            OpenAIImagesProvider(
                client: client, baseURL: baseURL, apiKeys: apiKeys, timeoutMilliseconds: timeout, maxResponseBytes: maxBytes,
                longestRetryAfterMilliseconds: longestRetryAfter, dialect: dialect
            )
        case .gemini:
            GeminiImagesProvider(
                client: client, baseURL: baseURL, apiKeys: apiKeys, timeoutMilliseconds: timeout, maxResponseBytes: maxBytes,
                longestRetryAfterMilliseconds: longestRetryAfter
            )
        case .replicate:
            ReplicateImagesProvider(
                client: client, baseURL: baseURL, apiKeys: apiKeys, timeoutMilliseconds: timeout, maxResponseBytes: maxBytes,
                longestRetryAfterMilliseconds: longestRetryAfter
            )
        }
    }
}

/// On SIGTERM/SIGINT stops leasing and starting provider calls, and gives the calls already
/// made the grace period (PROVIDER_TIMEOUT_SECONDS + 15 s) to end.
private struct WorkerService: Service {
    let worker: Worker

    func run() async throws {
        await withGracefulShutdownHandler {
            await worker.run()
        } onGracefulShutdown: {
            worker.shutdown()
        }
    }
}
