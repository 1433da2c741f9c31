import Foundation
import ImagegenCore
import Logging
import PostgresClient

/// Applies `migrations/NNNN_name.sql` files in order, each once, recorded in `schema_migrations`.
///
/// A session-level advisory lock serialises concurrent runs, so two processes
/// migrating at once apply each file exactly once.
public struct Migrator: Sendable {
    public struct Migration: Sendable, Equatable {
        public let version: Int
        public let name: String
        public let sql: String

        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
        }

        var checksum: String { SHA256.hash(Array(sql.utf8)).hexString }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private static let lockKey = "7243911502"

    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Reads every `NNNN_name.sql` file in `directory`.
    public init(directory: String) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw Failure(description: "cannot read the migrations directory \(directory): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            let digits = name.prefix { $0.isNumber }
            guard let version = Int(digits), name.dropFirst(digits.count).hasPrefix("_") else {
                throw Failure(description: "migration file \(name) does not start with a number and '_'")
            }
            if let clash = migrations.first(where: { $0.version == version }) {
                throw Failure(description: "migrations \(clash.name) and \(name) share the number \(version)")
            }
            let sql = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        self.init(migrations: migrations)
    }

    /// Applies what is pending and returns the names of the files it applied.
    public func migrate(_ database: Database) async throws -> [String] {
        let migrations = self.migrations
        return try await database.run { connection in
            // A migration may rewrite a large table, and another process's run may hold the lock for
            // as long: neither is a hang, so this session lifts the usual statement and lock timeouts.
            try connection.query("SET statement_timeout = 0")
            try connection.query("SET lock_timeout = 0")
            defer {
                _ = try? connection.query("RESET statement_timeout")
                _ = try? connection.query("RESET lock_timeout")
            }
            try connection.query("SELECT pg_advisory_lock(\(Self.lockKey))")
            defer { _ = try? connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))") }
            try connection.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let applied = try connection.query("SELECT version, name, checksum FROM schema_migrations")
            var appliedChecksums: [Int: (String, String)] = [:]
            for row in applied.map({ $0 }) {
                appliedChecksums[Int(try row.int("version"))] = (try row.string("name"), try row.string("checksum"))
            }
            var appliedNow: [String] = []
            for migration in migrations {
                if let (name, checksum) = appliedChecksums[migration.version] {
                    guard checksum == migration.checksum else {
                        throw Failure(description: "migration \(name) was changed after it was applied; add a new migration instead")
                    }
                    continue
                }
                try connection.transaction { connection in
                    try connection.execute(script: migration.sql)
                    try connection.query(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        [.int(migration.version), .text(migration.name), .text(migration.checksum)]
                    )
                }
                appliedNow.append(migration.name)
            }
            return appliedNow
        }
    }
}
