import ArgumentParser

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the names of the environment variables imagegen reads, one per line.",
        discussion: "Deployment checks compare them with the variables that manifests set; the README describes each."
    )

    @Flag(help: "Print instead the seconds a worker with this environment waits on SIGTERM for its provider calls to end.")
    var workerShutdownGrace = false

    func run() throws {
        if workerShutdownGrace {
            let configuration = try Configuration.fromEnvironment()
            print(configuration.workerShutdownGrace.components.seconds)
            return
        }
        for name in Configuration.variableNames {
            print(name)
        }
    }
}
