import ArgumentParser
import Foundation
import ImagegenCore
import ImagegenStore

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List models and retire them, or keep a retired one available.",
        subcommands: [List.self, Retire.self, Keep.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every enabled model, its retirement and whether requests may name it (KEEP_MODELS counts)."
        )

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let configuration = runtime.configuration
            let catalog = try await CatalogStore(database: runtime.database).load(
                defaultModel: configuration.defaultModel, keptModels: configuration.keptModels
            )
            let rows = catalog.models.values.sorted { $0.name < $1.name }.map { model in
                [
                    model.name + (model.name == catalog.defaultModel ? " (default)" : ""),
                    model.retirement?.day ?? "-", model.retirement?.replacement ?? "-", model.keptAvailable ? "yes" : "no",
                    model.isRetired ? "no: retired" : "yes",
                ]
            }
            print(TextTable(header: ["MODEL", "RETIRES ON", "REPLACEMENT", "KEPT", "AVAILABLE"], rows: rows, numericColumns: []).render())
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the day (UTC) a model retires, from which requests for it are refused with 422 model_retired.",
            discussion: "A retirement already announced by the provider is in the catalog; this records one it announces later."
        )

        @Argument(help: "The model.") var model: String
        @Option(help: "The first day the provider no longer serves it, YYYY-MM-DD (UTC).") var on: String?
        @Option(help: "The model requests should name instead.") var replacement: String?
        @Flag(help: "Withdraw the model's retirement instead.") var withdraw = false

        func validate() throws {
            guard withdraw == (on == nil) else { throw ValidationError("give --on YYYY-MM-DD, or --withdraw") }
            if let on, CalendarDay.date(on) == nil { throw ValidationError("--on must be a day as YYYY-MM-DD, got '\(on)'") }
            if withdraw, replacement != nil { throw ValidationError("--replacement goes with --on, not --withdraw") }
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            guard try await CatalogStore(database: runtime.database).setRetirement(model: model, day: on, replacement: replacement) else {
                throw StartupFailure(description: "no model named '\(model)'" + (replacement.map { " or '\($0)'" } ?? ""))
            }
            if let on {
                print("\(model) retires on \(on)" + (replacement.map { "; requests are pointed to \($0)" } ?? ""))
            } else {
                print("\(model) has no retirement")
            }
        }
    }

    struct Keep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep a retired model available for every API (your provider still serves it); KEEP_MODELS does it for one deployment."
        )

        @Argument(help: "The model.") var model: String
        @Flag(help: "Stop keeping it: from its retirement day, requests for it are refused again.") var off = false

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            guard try await CatalogStore(database: runtime.database).keepAvailable(model: model, !off) else {
                throw StartupFailure(description: "no model named '\(model)'")
            }
            print(off ? "\(model) is no longer kept available past its retirement" : "\(model) is kept available past its retirement")
        }
    }
}
