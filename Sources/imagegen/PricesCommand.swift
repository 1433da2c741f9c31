import ArgumentParser
import Foundation
import ImagegenStore

struct PricesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prices", abstract: "Manage model prices.", subcommands: [Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set the price of one image of a model, size and quality, from now or from a given time.",
            discussion: "Prices are effective-dated: earlier prices stay, so past tasks and reports keep theirs."
        )

        @Option(help: "The model, e.g. dall-e-3.") var model: String
        @Option(help: "The size, e.g. 1024x1024.") var size: String
        @Option(help: "The quality, e.g. standard.") var quality: String
        @Option(help: "Price of one image in USD, e.g. 0.04.") var usd: String
        @Option(help: "When the price takes effect, RFC 3339 (e.g. 2026-12-01T00:00:00Z); default now.") var effectiveFrom: String?

        func validate() throws {
            _ = try usdAmount(usd, option: "--usd")
            if let effectiveFrom, (try? Date(effectiveFrom, strategy: .iso8601)) == nil {
                throw ValidationError("--effective-from must be an RFC 3339 time such as 2026-12-01T00:00:00Z, got '\(effectiveFrom)'")
            }
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let change = try await CatalogStore(database: runtime.database).setPrice(
                model: model, size: size, quality: quality, unitPrice: try usdAmount(usd, option: "--usd")!,
                effectiveFrom: try effectiveFrom.map { try Date($0, strategy: .iso8601) }
            )
            switch change {
            case .set(let from):
                print("\(model) \(size) \(quality): $\(try usdAmount(usd, option: "--usd")!.usd) per image from \(from)")
            case .unknownModel:
                throw StartupFailure(description: "no model named '\(model)'")
            case .unknownOption:
                throw StartupFailure(description: "\(model) does not offer size '\(size)' with quality '\(quality)'")
            }
        }
    }
}
