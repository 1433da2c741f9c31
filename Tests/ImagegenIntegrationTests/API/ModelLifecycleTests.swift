import Foundation
import ImagegenCore
import Testing

@Suite("Model lifecycle: retired models are refused at submit, the default is the current model")
struct ModelLifecycleTests {
    @Test("a fresh install: no model means gpt-image-2, charged from the tokens the provider reported; dall-e-3 is 422 model_retired")
    func freshInstall() async throws {
        let system = try await RunningSystem.start(defaultModel: "gpt-image-2", keptModels: [])
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser(name: "current")

        let refused = try await system.submit(key: key, #"{"prompt": "a lighthouse", "model": "dall-e-3"}"#)
        #expect(refused.status == 422)
        #expect(refused.errorCode == "model_retired")
        let message = try #require((refused.json["error"] as? [String: Any])?["message"] as? String)
        #expect(message.contains("2026-05-12"))
        #expect(message.contains("use gpt-image-2"))
        let stored = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS n FROM tasks WHERE user_id = $1", [.text(user.id.uuidString)])
        }.first
        #expect(try stored?.int("n") == 0)
        #expect(try await system.queue.depth() == (0, 0, 0))

        let accepted = try await system.submit(key: key, #"{"prompt": "a lighthouse", "quality": "low"}"#)
        #expect(accepted.status == 202)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect(done.json["model"] as? String == "gpt-image-2")
        let charge = try #require(try await system.database.run { connection in
            try connection.query(
                "SELECT amount_micro_usd, text_input_tokens, output_tokens FROM charges WHERE task_id = $1", [.text(taskID)]
            )
        }.first)
        let rates = TokenRates(textInputPerMillion: 5_000_000, imageInputPerMillion: 8_000_000, outputPerMillion: 30_000_000)
        let tokens = TokenUsage(
            textInputTokens: try charge.int("text_input_tokens"), imageInputTokens: 0, outputTokens: try charge.int("output_tokens")
        )
        #expect(tokens.outputTokens == 272)
        #expect(try charge.int("amount_micro_usd") == rates.cost(of: tokens).value)
        #expect(done.json["cost_micro_usd"] as? Int == Int(rates.cost(of: tokens).value))
    }

    @Test("gpt-image-2 at 1536x1024, low, output_format jpeg: the image route answers image/jpeg, charged from the reported tokens")
    func jpegFromGPTImage2() async throws {
        let system = try await RunningSystem.start(defaultModel: "gpt-image-2", keptModels: [])
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "jpeg")
        let body = #"{"prompt": "a harbour", "model": "gpt-image-2", "size": "1536x1024", "quality": "low", "output_format": "jpeg", "output_compression": 70}"#
        let taskID = try #require(try await system.submit(key: key, body).json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        let image = try await system.request("GET", "/images/tasks/\(taskID)/images/0", key: key)
        #expect(image.status == 200)
        #expect(image.headers["content-type"] == "image/jpeg")
        #expect(Array(image.body.prefix(3)) == [0xff, 0xd8, 0xff])
        let charge = try #require(try await system.database.run { connection in
            try connection.query("SELECT amount_micro_usd, text_input_tokens, output_tokens FROM charges WHERE task_id = $1", [.text(taskID)])
        }.first)
        #expect(try charge.int("output_tokens") == 408)
        let tokens = TokenUsage(textInputTokens: try charge.int("text_input_tokens"), imageInputTokens: 0, outputTokens: 408)
        let rates = TokenRates(textInputPerMillion: 5_000_000, imageInputPerMillion: 8_000_000, outputPerMillion: 30_000_000)
        #expect(try charge.int("amount_micro_usd") == rates.cost(of: tokens).value)
        // The JPEG shows output_format reached the provider. gpt-image-2 takes no transparent background: refused at submit.
        let transparent = try await system.submit(key: key, #"{"prompt": "a harbour", "background": "transparent"}"#)
        #expect(transparent.status == 422)
        #expect((transparent.json["error"] as? [String: Any])?["field"] as? String == "background")
    }

    @Test("gpt-image-2 at a size its rule allows (2048x1152) succeeds, reserved and charged by its area's tokens; a size outside it is a 422")
    func sizeByRule() async throws {
        let system = try await RunningSystem.start(defaultModel: "gpt-image-2", keptModels: [])
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "wide")
        let estimate = try await system.request("POST", "/images/estimate", key: key, body: #"{"prompt": "abcd", "size": "2048x1152", "quality": "low"}"#)
        #expect(estimate.json["cost_micro_usd"] as? Int == 612 * 30 + 4 * 5)  // 612 output tokens at $30/M, 4 prompt bytes at $5/M
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "abcd", "size": "2048x1152", "quality": "low"}"#).json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        let charge = try #require(try await system.database.run { connection in
            try connection.query("SELECT output_tokens FROM charges WHERE task_id = $1", [.text(taskID)])
        }.first)
        #expect(try charge.int("output_tokens") == 612)
        let refused = try await system.submit(key: key, #"{"prompt": "abcd", "size": "1000x1000"}"#)
        #expect(refused.status == 422)
        #expect((refused.json["error"] as? [String: Any])?["field"] as? String == "size")
        let models = try #require(try await system.request("GET", "/images/models", key: key).json["models"] as? [[String: Any]])
        let rule = try #require(models.first { $0["name"] as? String == "gpt-image-2" }?["size_rule"] as? [String: Any])
        #expect(rule["step"] as? Int == 16 && rule["max_side"] as? Int == 3840 && rule["max_pixels"] as? Int == 8_294_400)
    }

    @Test("the model list shows what a key may use: no retired model, unless kept, and then with its day and replacement")
    func modelList() async throws {
        let fresh = try await RunningSystem.start(worker: nil, defaultModel: "gpt-image-2", keptModels: [])
        let (_, key) = try await fresh.createUser()
        let list = try await fresh.request("GET", "/images/models", key: key).json
        await fresh.stop()
        let names = try #require(list["models"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        // Other tests add models of their own to the shared database; OpenAI's retired ones must not show.
        #expect(names.contains("gpt-image-2"))
        #expect(Set(names).isDisjoint(with: RunningSystem.retiredModels))
        #expect(list["default_model"] as? String == "gpt-image-2")

        let keeping = try await RunningSystem.start(worker: nil, defaultModel: "gpt-image-2", keptModels: ["dall-e-3"])
        defer { Task { await keeping.stop() } }
        let (_, otherKey) = try await keeping.createUser()
        let models = try #require(try await keeping.request("GET", "/images/models", key: otherKey).json["models"] as? [[String: Any]])
        let kept = try #require(models.first { $0["name"] as? String == "dall-e-3" })
        #expect(kept["retires_on"] as? String == "2026-05-12")
        #expect(kept["replacement"] as? String == "gpt-image-2")
        #expect(kept["kept_available"] as? Bool == true)
        let current = try #require(models.first { $0["name"] as? String == "gpt-image-2" })
        #expect(current["retires_on"] is NSNull)
        #expect(current["kept_available"] as? Bool == false)
        #expect(try await keeping.submit(key: otherKey, #"{"prompt": "old style", "model": "dall-e-3"}"#).status == 202)
    }
}
