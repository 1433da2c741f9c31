import Foundation
import ImagegenStore
import Testing

@Suite("imagegen admin models: add a model, set its providers and tier, retire it, keep it available, withdraw the retirement")
struct AdminModelsCommandTests {
    private var environment: [String: String] {
        get throws { ["DATABASE_URL": try TestEnvironment.databaseURL(), "KEEP_MODELS": ""] }
    }

    /// The `models list` line of `model`.
    private func line(of model: String) async throws -> String {
        let list = try await ChildProcess.run(["admin", "models", "list"], environment: try environment)
        #expect(list.status == 0)
        let line = try #require(list.output.split(separator: "\n").first { $0.hasPrefix(model + " ") })
        return line.trimmingCharacters(in: .whitespaces)
    }

    @Test("a retired model is listed unavailable with its day and replacement; kept, it is available; withdrawn, it is plain again")
    func lifecycle() async throws {
        let database = try await TestEnvironment.database()
        let model = try await database.addModel(prefix: "lifecycle", unitPrice: 10_000)
        #expect(try await line(of: model).hasSuffix("yes"))

        let retired = try await ChildProcess.run(
            ["admin", "models", "retire", model, "--on", "2026-01-31", "--replacement", "gpt-image-2"], environment: try environment
        )
        #expect(retired.status == 0)
        #expect(retired.output.contains("\(model) retires on 2026-01-31; requests are pointed to gpt-image-2"))
        let listed = try await line(of: model).split(separator: " ").filter { !$0.isEmpty }
        #expect(listed.contains("2026-01-31"))
        #expect(listed.contains("gpt-image-2"))
        #expect(listed.suffix(2) == ["no:", "retired"])

        #expect(try await ChildProcess.run(["admin", "models", "keep", model], environment: try environment).status == 0)
        #expect(try await line(of: model).hasSuffix("yes"))
        #expect(try await ChildProcess.run(["admin", "models", "keep", model, "--off"], environment: try environment).status == 0)
        #expect(try await line(of: model).hasSuffix("retired"))

        let withdrawn = try await ChildProcess.run(["admin", "models", "retire", model, "--withdraw"], environment: try environment)
        #expect(withdrawn.output.contains("\(model) has no retirement"))
        let row = try await database.run { try $0.query("SELECT retires_on, replacement FROM models WHERE name = $1", [.text(model)]) }.first
        #expect(try row?.optionalString("retires_on") == nil)
        #expect(try row?.optionalString("replacement") == nil)
    }

    @Test("a model added like another takes its rules; its routes, tier and enabling are set and listed; a user's fallback default is set")
    func addAndRoute() async throws {
        let database = try await TestEnvironment.database()
        let model = "added-\(UUID().uuidString.prefix(6).lowercased())"
        let added = try await ChildProcess.run(["admin", "models", "add", model, "--like", "gpt-image-2", "--tier", "premium"], environment: try environment)
        #expect(added.status == 0, "\(added.error)")
        let rules = try #require(try await database.run { connection in
            try connection.query(
                "SELECT m.max_images, m.size_step, m.tier, o.max_images = m.max_images AND o.sizes = m.sizes AND o.output_formats = m.output_formats AS same "
                    + "FROM models m, models o WHERE m.name = $1 AND o.name = 'gpt-image-2'",
                [.text(model)]
            )
        }.first)
        #expect(try rules.bool("same"))
        #expect(try rules.optionalInt("size_step") == 16)
        #expect(try rules.optionalString("tier") == "premium")
        #expect(try await line(of: model).contains("(default provider)"))

        let routed = try await ChildProcess.run(
            ["admin", "models", "routes", model, "openai", "azure=gpt-image-2-eu"], environment: try environment
        )
        #expect(routed.output.contains("\(model) runs on openai, then azure=gpt-image-2-eu"))
        #expect(try await line(of: model).contains("openai, azure=gpt-image-2-eu"))
        let routes = try await database.run { connection in
            try connection.query("SELECT provider, provider_model, position FROM model_routes WHERE model = $1 ORDER BY position", [.text(model)])
        }.map { [try $0.string("provider"), try $0.optionalString("provider_model") ?? "-", String(try $0.int("position"))] }
        #expect(routes == [["openai", "-", "1"], ["azure", "gpt-image-2-eu", "2"]])
        #expect(try await ChildProcess.run(["admin", "models", "routes", model, "--default-provider"], environment: try environment).status == 0)
        #expect(try await line(of: model).contains("(default provider)"))

        #expect(try await ChildProcess.run(["admin", "models", "tier", model, "--none"], environment: try environment).status == 0)
        #expect(try await database.run { try $0.query("SELECT tier FROM models WHERE name = $1", [.text(model)]) }.first?.optionalString("tier") == nil)
        #expect(try await ChildProcess.run(["admin", "models", "enable", model, "--off"], environment: try environment).status == 0)
        #expect(try await line(of: model).hasSuffix("no: disabled"))
        #expect(try await ChildProcess.run(["admin", "models", "enable", model], environment: try environment).status == 0)
        #expect(try await line(of: model).hasSuffix("yes"))

        let (user, _) = try await UserStore(database: database).createUser(name: "fallback-\(model)")
        let fallback = try await ChildProcess.run(["admin", "users", "set-fallback", user.id.uuidString], environment: try environment)
        #expect(fallback.status == 0)
        #expect(try await database.run { try $0.query("SELECT fallback FROM users WHERE id = $1", [.text(user.id.uuidString)]) }.first?.bool("fallback") == true)
    }

    @Test("bad arguments end with an error line and a non-zero exit", arguments: [
        ["admin", "models", "add", "x-new", "--like", "no-such-model"],
        ["admin", "models", "add", "gpt-image-2", "--like", "gpt-image-1"],
        ["admin", "models", "add", "bad name", "--like", "gpt-image-2"],
        ["admin", "models", "routes", "gpt-image-2"],
        ["admin", "models", "routes", "gpt-image-2", "Open AI"],
        ["admin", "models", "routes", "gpt-image-2", "openai", "openai"],
        ["admin", "models", "routes", "no-such-model", "openai"],
        ["admin", "models", "tier", "gpt-image-2"],
        ["admin", "models", "enable", "no-such-model"],
        ["admin", "users", "set-fallback", "no-such-user"],
        ["admin", "models", "retire", "gpt-image-2"],
        ["admin", "models", "retire", "gpt-image-2", "--on", "2026-02-30"],
        ["admin", "models", "retire", "gpt-image-2", "--on", "2026-12-01", "--withdraw"],
        ["admin", "models", "retire", "no-such-model", "--on", "2026-12-01"],
        ["admin", "models", "retire", "gpt-image-2", "--on", "2030-01-01", "--replacement", "no-such-model"],
        ["admin", "models", "keep", "no-such-model"],
    ])
    func badArguments(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run(arguments, environment: try environment)
        #expect(result.status != 0)
        #expect(result.error.split(separator: "\n").first?.hasPrefix("Error: ") == true, "\(result.error)")
    }
}
