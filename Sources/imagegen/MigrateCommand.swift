import ArgumentParser
import ImagegenStore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending migrations from MIGRATIONS_DIR (default ./migrations)."
    )

    func run() async throws {
        let runtime = try await Runtime.start(label: "imagegen.migrate")
        let migrator: Migrator
        do {
            migrator = try Migrator(directory: runtime.configuration.migrationsDirectory)
        } catch let failure as Migrator.Failure {
            throw StartupFailure(description: "MIGRATIONS_DIR: \(failure)")
        }
        let applied = try await migrator.migrate(runtime.database)
        if applied.isEmpty {
            print("database is up to date (\(migrator.migrations.count) migrations)")
        } else {
            for name in applied { print("applied \(name)") }
        }
    }
}
