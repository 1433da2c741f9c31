import Foundation
import ImagegenProvider
import Testing

@Suite("A worker whose provider speaks Azure OpenAI's wire format")
struct AzureProviderTests {
    @Test("a task succeeds through the Azure adapter against the mock's Azure endpoint, charged from the deployment's tokens")
    func taskThroughAzure() async throws {
        let system = try await RunningSystem.start(
            provider: .openAI(.azure(deployment: "gpt-image-2", apiVersion: "2025-04-01-preview")), defaultModel: "gpt-image-2", keptModels: []
        )
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "azure")
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "a lake in fog", "quality": "low"}"#).json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect((done.json["images"] as? [[String: Any]])?.first?["media_type"] as? String == "image/png")
        let charge = try #require(try await system.database.run { connection in
            try connection.query("SELECT output_tokens FROM charges WHERE task_id = $1", [.text(taskID)])
        }.first)
        #expect(try charge.int("output_tokens") == 272)
        #expect(try await system.providerCalls()["a lake in fog"] == 1)
    }
}

@Suite("A worker whose provider speaks Together AI's wire format")
struct TogetherProviderTests {
    @Test("a task for a Together model added as data succeeds at its size, charged its price per image")
    func taskThroughTogether() async throws {
        let system = try await RunningSystem.start(provider: .openAI(.together))
        defer { Task { await system.stop() } }
        let model = try await system.database.addModel(prefix: "black-forest-labs/flux", unitPrice: 3_000)
        let (_, key) = try await system.createUser(name: "together")
        let taskID = try #require(
            try await system.submit(key: key, #"{"prompt": "a red kite", "model": "\#(model)", "n": 1}"#).json["task_id"] as? String
        )
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect(done.json["cost_micro_usd"] as? Int == 3_000)
        #expect(try await system.providerCalls()["a red kite"] == 1)
    }
}

@Suite("A worker whose provider is a Gemini image model")
struct GeminiProviderTests {
    @Test("a task for a Gemini model added as data succeeds through generateContent; a safety block fails it for good, unretried")
    func taskThroughGemini() async throws {
        let system = try await RunningSystem.start(provider: .gemini)
        defer { Task { await system.stop() } }
        let model = try await system.database.addModel(prefix: "gemini-image", unitPrice: 39_000)
        let (_, key) = try await system.createUser(name: "gemini")
        func submit(_ prompt: String) async throws -> RunningSystem.HTTPResult {
            let taskID = try #require(
                try await system.submit(key: key, #"{"prompt": "\#(prompt)", "model": "\#(model)"}"#).json["task_id"] as? String
            )
            return try await system.waitForTerminal(taskID: taskID, key: key)
        }
        let made = try await submit("a lighthouse in the rain")
        #expect(made.json["status"] as? String == "succeeded")
        #expect(made.json["cost_micro_usd"] as? Int == 39_000)
        let blocked = try await submit("a lighthouse [mock:content_policy]")
        #expect(blocked.json["status"] as? String == "failed")
        #expect((blocked.json["error"] as? [String: Any])?["code"] as? String == "content_policy_violation")
        #expect(blocked.json["cost_usd"] == nil)
        #expect(try await system.providerCalls()["a lighthouse [mock:content_policy]"] == 1)
    }
}
