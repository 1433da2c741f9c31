import ArgumentParser
import Foundation
import ImagegenCore
import ImagegenStore

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "Add models, set their providers and tier, retire them or keep a retired one available.",
        subcommands: [List.self, Add.self, Routes.self, Tier.self, Enable.self, Retire.self, Keep.self]
    )

    /// Changes one model's row in the catalog; a model that does not exist is a one-line error.
    static func change(_ model: String, _ apply: (CatalogStore) async throws -> Bool) async throws {
        let runtime = try await Runtime.start(label: "imagegen.admin")
        guard try await apply(CatalogStore(database: runtime.database)) else { throw StartupFailure(description: "no model named '\(model)'") }
    }

    /// A provider or tier name as the database accepts it.
    static func checkName(_ name: String, _ what: String) throws {
        guard name.range(of: "^[a-z][a-z0-9_-]{0,39}$", options: .regularExpression) != nil else {
            throw ValidationError("\(what) must be lower-case letters, digits, '-' and '_' (at most 40), got '\(name)'")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every model, its providers, tier and retirement, and whether requests may name it (KEEP_MODELS counts)."
        )

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let configuration = runtime.configuration
            let store = CatalogStore(database: runtime.database)
            let catalog = try await store.load(defaultModel: configuration.defaultModel, keptModels: configuration.keptModels)
            let disabled = try await store.disabledModels().map { name in [name, "-", "-", "-", "-", "-", "no: disabled"] }
            let rows = catalog.models.values.sorted { $0.name < $1.name }.map { model in
                [
                    model.name + (model.name == catalog.defaultModel ? " (default)" : ""),
                    model.routes.isEmpty ? "(default provider)" : model.routes.map { route in
                        route.provider + (route.providerModel.map { "=\($0)" } ?? "")
                    }.joined(separator: ", "),
                    model.tier ?? "-", model.retirement?.day ?? "-", model.retirement?.replacement ?? "-", model.keptAvailable ? "yes" : "no",
                    model.isRetired ? "no: retired" : "yes",
                ]
            }
            print(TextTable(
                header: ["MODEL", "PROVIDERS", "TIER", "RETIRES ON", "REPLACEMENT", "KEPT", "AVAILABLE"],
                rows: (rows + disabled).sorted { $0[0] < $1[0] }, numericColumns: []
            ).render())
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a model with the rules (sizes, qualities, fields, prompt length, n) of an existing one.",
            discussion: "Then give it providers with `models routes` and prices with `prices set`; it is refused until it has a price."
        )

        @Argument(help: "The new model's name, as requests name it.") var name: String
        @Option(help: "The model whose rules it takes.") var like: String
        @Option(help: "Its tier: a task that allows fallback may move between models of one tier.") var tier: String?

        func validate() throws {
            guard (1...100).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || "-._/".contains($0) }) else {
                throw ValidationError("the name must be 1 to 100 letters, digits, '-', '.', '_' and '/', got '\(name)'")
            }
            if let tier { try ModelsCommand.checkName(tier, "--tier") }
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            switch try await CatalogStore(database: runtime.database).addModel(name, like: like, tier: tier) {
            case .added: print("\(name) added with the rules of \(like); set its prices with `imagegen admin prices set`")
            case .exists: throw StartupFailure(description: "a model named '\(name)' exists already")
            case .unknownTemplate: throw StartupFailure(description: "no model named '\(like)'")
            }
        }
    }

    struct Routes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the providers that serve a model, in the order tasks try them.",
            discussion: """
                Each is a provider's name as workers know it (PROVIDER_NAME, PROVIDERS), optionally with the model's name there:                 `routes gpt-image-2 openai azure=my-gpt-image-2-deployment`. A task runs on the first; one that allows fallback                 may move to the others when the first is down. Workers must call the providers named.
                """
        )

        @Argument(help: "The model.") var model: String
        @Argument(help: "provider or provider=model-at-provider, in order.") var routes: [String] = []
        @Flag(help: "Remove its routes: the deployment's default provider serves it.") var defaultProvider = false

        func validate() throws {
            guard routes.isEmpty == defaultProvider else { throw ValidationError("give one or more providers, or --default-provider alone") }
            let parsed = try parsedRoutes()
            guard Set(parsed.map(\.provider)).count == parsed.count else { throw ValidationError("a provider is named twice") }
        }

        func parsedRoutes() throws -> [ModelRoute] {
            try routes.map { text in
                let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                try ModelsCommand.checkName(parts[0], "a provider")
                guard parts.count == 1 || !parts[1].isEmpty else { throw ValidationError("'\(text)': the model's name at the provider is empty") }
                return ModelRoute(provider: parts[0], providerModel: parts.count == 2 ? parts[1] : nil)
            }
        }

        func run() async throws {
            let parsed = try parsedRoutes()
            try await ModelsCommand.change(model) { try await $0.setRoutes(model: model, parsed) }
            print(parsed.isEmpty ? "\(model) runs on the default provider" : "\(model) runs on \(routes.joined(separator: ", then "))")
        }
    }

    struct Tier: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a model in a tier: a task that allows fallback may move between models of one tier when its own route is down."
        )

        @Argument(help: "The model.") var model: String
        @Argument(help: "The tier's name.") var tier: String?
        @Flag(help: "Take the model out of any tier: fallback then uses its own routes only.") var none = false

        func validate() throws {
            guard (tier == nil) == none else { throw ValidationError("give a tier, or --none") }
            if let tier { try ModelsCommand.checkName(tier, "the tier") }
        }

        func run() async throws {
            try await ModelsCommand.change(model) { try await $0.setTier(model: model, tier) }
            print(tier.map { "\(model) is in the tier \($0)" } ?? "\(model) is in no tier")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let requests name a model (once the workers call its providers), or stop them with --off."
        )

        @Argument(help: "The model.") var model: String
        @Flag(help: "Disable it: requests for it are refused as an unknown model.") var off = false

        func run() async throws {
            try await ModelsCommand.change(model) { try await $0.setEnabled(model: model, !off) }
            print(off ? "\(model) is disabled" : "\(model) is enabled")
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
            try await ModelsCommand.change(model) { try await $0.keepAvailable(model: model, !off) }
            print(off ? "\(model) is no longer kept available past its retirement" : "\(model) is kept available past its retirement")
        }
    }
}
