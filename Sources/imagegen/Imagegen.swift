import ArgumentParser

@main
struct Imagegen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagegen",
        abstract: "A durable job queue for AI image generation.",
        subcommands: [ServeCommand.self, WorkerCommand.self, MigrateCommand.self, AdminCommand.self, MockProviderCommand.self, ConfigCommand.self, BenchCommand.self]
    )
}
