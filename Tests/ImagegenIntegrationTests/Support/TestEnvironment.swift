import Foundation
import ImagegenStore
import Logging
import RedisClient
import Testing

/// The real Redis and PostgreSQL servers that `scripts/test` starts, migrated once per run.
enum TestEnvironment {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static var logger: Logger {
        var logger = Logger(label: "imagegen.test")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }

    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw Missing(description: "\(name) is not set: run the tests with ./scripts/test, which starts Redis and PostgreSQL")
        }
        return value
    }

    static func databaseURL() throws -> String { try variable("IMAGEGEN_TEST_DATABASE_URL") }
    static func redisURL() throws -> RedisURL { try RedisURL(parsing: try variable("IMAGEGEN_TEST_REDIS_URL")) }
    static func migrationsDirectory() throws -> String { try variable("IMAGEGEN_MIGRATIONS_DIR") }

    /// A migrated database shared by the whole run.
    static func database() async throws -> Database {
        try await shared.value
    }

    private static let shared = Task<Database, any Error> {
        let database = Database(connectionString: try databaseURL(), connections: 8, logger: logger)
        _ = try await Migrator(directory: try migrationsDirectory()).migrate(database)
        return database
    }

    /// A queue name no other test uses, so tests can run side by side on one Redis.
    static func uniqueQueueName() -> String {
        "test-\(UUID().uuidString.prefix(8).lowercased())"
    }
}
