import ImagegenCore
import ImagegenQueue
import ImagegenStore
import Logging

/// A fatal start-up problem, printed as one line by the command-line parser.
struct StartupFailure: Error, CustomStringConvertible {
    let description: String
}

/// The connections every command that touches storage opens, each checked at start.
struct Runtime {
    let configuration: Configuration
    let logger: Logger
    let database: Database

    static func start(label: String) async throws -> Runtime {
        let configuration = try Configuration.fromEnvironment()
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { name in
            var handler = StreamLogHandler.standardError(label: name)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: label)
        let database = Database(
            connectionString: configuration.databaseURL, connections: configuration.databaseConnections, logger: logger
        )
        do {
            try await database.connect()
        } catch {
            throw StartupFailure(description: "DATABASE_URL: cannot connect to PostgreSQL at \(configuration.redactedDatabaseURL): \(error)")
        }
        return Runtime(configuration: configuration, logger: logger, database: database)
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
