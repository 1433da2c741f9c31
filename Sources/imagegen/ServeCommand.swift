import ArgumentParser
import Hummingbird
import ImagegenAPI
import ImagegenStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP API (HOST, PORT).")

    func run() async throws {
        let runtime = try await Runtime.start(label: "imagegen.api")
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
