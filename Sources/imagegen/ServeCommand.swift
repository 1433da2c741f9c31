import ArgumentParser
import Hummingbird
import ImagegenAPI
import ImagegenStore
import NIOCore
import NIOPosix

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP API (HOST, PORT).")

    func run() async throws {
        // Handlers run on the event loop that read their request: Swift concurrency's executor
        // becomes NIO's, so that a request no longer hops between the loop and the cooperative
        // pool, a context switch and a run-queue wait each way on a busy machine. Blocking calls
        // keep to their lanes, so the loops stay free for I/O.
        let handlersOnEventLoops = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let runtime = try await Runtime.start(label: "imagegen.api")
        if !handlersOnEventLoops { runtime.logger.notice("handlers run on Swift's cooperative pool: NIO could not take over its executor") }
        let queue = try await runtime.connectQueue()
        let configuration = runtime.configuration
        let catalog = try await CatalogStore(database: runtime.database).load(
            defaultModel: configuration.defaultModel, keptModels: configuration.keptModels
        )
        if let problem = catalog.defaultModelProblem {
            throw StartupFailure(description: "DEFAULT_MODEL: \(problem)")
        }
        let application = try APIServer.makeApplication(
            .init(
                database: runtime.database, queue: queue,
                changes: TaskChangeListener(connectionString: configuration.databaseURL, logger: runtime.logger),
                backoff: configuration.backoff, taskDeadline: configuration.taskDeadline, spend: configuration.spend,
                defaultModel: configuration.defaultModel, keptModels: configuration.keptModels,
                submissionRate: configuration.submissionRate, redisURL: configuration.redisURL,
                waitersPerUser: configuration.waitersPerUser, streamIdleTimeout: configuration.streamIdleTimeout,
                providerGate: runtime.providerGate(keyIDs: [])
            ),
            host: configuration.host,
            port: configuration.port,
            logger: runtime.logger,
            operations: runtime.operationsRoutes(queue: queue)
        )
        try await application.runService()
    }
}
