import Foundation
import ImagegenStore
import PostgresClient
import Testing

@Suite("Migrations apply once, in order, even when two processes run them at once")
struct MigrationTests {
    /// A new empty database on the test server, dropped afterwards.
    private func withScratchDatabase(_ body: (String) async throws -> Void) async throws {
        let admin = try await TestEnvironment.database()
        let name = "imagegen_scratch_\(UUID().uuidString.prefix(8).lowercased())"
        try await admin.run { try $0.query("CREATE DATABASE \(name)") }
        let base = try TestEnvironment.databaseURL()
        let url = String(base[..<base.lastIndex(of: "/")!]) + "/" + name
        do {
            try await body(url)
        } catch {
            _ = try? await admin.run { try $0.query("DROP DATABASE \(name) WITH (FORCE)") }
            throw error
        }
        try await admin.run { try $0.query("DROP DATABASE \(name) WITH (FORCE)") }
    }

    @Test("two concurrent runs apply each file exactly once; a third run applies nothing")
    func concurrentAndRepeated() async throws {
        let migrator = try Migrator(directory: try TestEnvironment.migrationsDirectory())
        #expect(!migrator.migrations.isEmpty)
        try await withScratchDatabase { url in
            let first = Database(connectionString: url, connections: 1, logger: TestEnvironment.logger)
            let second = Database(connectionString: url, connections: 1, logger: TestEnvironment.logger)
            async let a = migrator.migrate(first)
            async let b = migrator.migrate(second)
            let (appliedByA, appliedByB) = try await (a, b)
            #expect((appliedByA + appliedByB).sorted() == migrator.migrations.map(\.name).sorted())
            let appliedAgain = try await migrator.migrate(first)
            #expect(appliedAgain.isEmpty)
            let recorded = try await first.run { try $0.query("SELECT count(*) AS n FROM schema_migrations") }
            #expect(try recorded.first?.int("n") == Int64(migrator.migrations.count))
            let models = try await first.run { try $0.query("SELECT count(*) AS n FROM models") }
            #expect(try models.first?.int("n") == 5)  // dall-e-2, dall-e-3, gpt-image-1, gpt-image-2 and flux-schnell
        }
    }

    @Test("a migration edited after it was applied is refused")
    func editedMigrationIsRefused() async throws {
        let original = Migrator.Migration(version: 1, name: "0001_t.sql", sql: "CREATE TABLE t (id int)")
        let edited = Migrator.Migration(version: 1, name: "0001_t.sql", sql: "CREATE TABLE t (id bigint)")
        try await withScratchDatabase { url in
            let database = Database(connectionString: url, connections: 1, logger: TestEnvironment.logger)
            let applied = try await Migrator(migrations: [original]).migrate(database)
            #expect(applied == ["0001_t.sql"])
            await #expect(throws: Migrator.Failure.self) { try await Migrator(migrations: [edited]).migrate(database) }
        }
    }

    @Test("a failing migration leaves nothing behind and is not recorded")
    func failingMigrationRollsBack() async throws {
        let good = Migrator.Migration(version: 1, name: "0001_a.sql", sql: "CREATE TABLE a (id int)")
        let bad = Migrator.Migration(version: 2, name: "0002_b.sql", sql: "CREATE TABLE b (id int); SELECT nonsense FROM nowhere")
        try await withScratchDatabase { url in
            let database = Database(connectionString: url, connections: 1, logger: TestEnvironment.logger)
            await #expect(throws: PostgresError.self) { try await Migrator(migrations: [good, bad]).migrate(database) }
            let state = try await database.run { connection in
                try connection.query(
                    "SELECT to_regclass('a') IS NOT NULL AS a, to_regclass('b') IS NOT NULL AS b, (SELECT count(*) FROM schema_migrations) AS n"
                )
            }
            #expect(try state.first?.bool("a") == true)
            #expect(try state.first?.bool("b") == false)
            #expect(try state.first?.int("n") == 1)
        }
    }
}
