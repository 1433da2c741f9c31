import Foundation
import Testing

@Suite("imagegen admin models: retire a model, keep it available, withdraw the retirement")
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

    @Test("bad arguments end with an error line and a non-zero exit", arguments: [
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
