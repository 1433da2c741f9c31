import ArgumentParser

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the names of the environment variables imagegen reads, one per line.",
        discussion: "Deployment checks compare them with the variables that manifests set; the README describes each."
    )

    @Flag(help: "Print instead the seconds a worker with this environment waits on SIGTERM for its provider calls to end.")
    var workerShutdownGrace = false

    @Option(help: "Print instead how many PostgreSQL connections one process of this command (serve, worker, migrate, admin) opens.")
    var postgresConnections: Configuration.DatabaseClient?

    func run() throws {
        if workerShutdownGrace {
            print(try Configuration.fromEnvironment().workerShutdownGrace.components.seconds)
            return
        }
        if let postgresConnections {
            print(try Configuration.fromEnvironment().postgresConnections(of: postgresConnections))
            return
        }
        for name in Configuration.variableNames {
            print(name)
        }
    }
}

extension Configuration.DatabaseClient: ExpressibleByArgument {}
