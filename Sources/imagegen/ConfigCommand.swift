import ArgumentParser

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the names of the environment variables imagegen reads, one per line.",
        discussion: "Deployment checks compare them with the variables that manifests set; the README describes each."
    )

    func run() throws {
        for name in Configuration.variableNames {
            print(name)
        }
    }
}
