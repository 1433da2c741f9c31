import Foundation
import ImagegenCore
import PostgresClient
import Testing

@Suite("End to end: submit, queue, generate, store, poll")
struct EndToEndTests {
    @Test("a dall-e-3 request reaches succeeded with a decodable image and the right charge")
    func dallE3Succeeds() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()

        let accepted = try await system.submit(key: key, #"{"prompt": "a lighthouse at dawn"}"#)
        #expect(accepted.status == 202)
        let taskID = try #require(accepted.json["task_id"] as? String)
        #expect(accepted.json["status"] as? String == "queued")
        #expect(accepted.json["status_url"] as? String == "/images/tasks/\(taskID)/status")
        #expect(accepted.headers["location"] == "/images/tasks/\(taskID)/status")

        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect(done.json["attempts"] as? Int == 1)
        #expect(done.json["cost_usd"] as? String == "0.040000")
        #expect(done.json["finished_at"] is String)
        let images = try #require(done.json["images"] as? [[String: Any]])
        #expect(images.count == 1)
        let base64 = try #require(images[0]["b64_json"] as? String)
        let bytes = try #require(Data(base64Encoded: base64))
        let image = try #require(ImageInspector.inspect(Array(bytes)))
        #expect(image.mediaType == "image/png")
        #expect(image.width == 1024 && image.height == 1024)
        #expect((images[0]["revised_prompt"] as? String)?.contains("a lighthouse at dawn") == true)

        let charges = try await system.database.run { connection in
            try connection.query(
                "SELECT amount_micro_usd, images, user_id FROM charges WHERE task_id = $1", [.text(taskID)]
            )
        }
        #expect(charges.count == 1)
        #expect(try charges.first?.int("amount_micro_usd") == 40_000)
        #expect(try charges.first?.string("user_id") == user.id.uuidString.lowercased())
        // The worker acknowledges in Redis just after it commits the outcome the poll saw.
        #expect(try await eventually { try await system.queue.depth() == (0, 0, 0) })
    }

    @Test("dall-e-2 with n=3 at 512x512 stores three images and charges 3 × $0.018")
    func dallE2SeveralImages() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        let accepted = try await system.submit(key: key, #"{"prompt": "three cats", "model": "dall-e-2", "size": "512x512", "n": 3}"#)
        #expect(accepted.status == 202)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect(done.json["cost_micro_usd"] as? Int == 54_000)
        let images = try #require(done.json["images"] as? [[String: Any]])
        #expect(images.count == 3)
        for item in images {
            let base64 = try #require(item["b64_json"] as? String)
            let bytes = try #require(Data(base64Encoded: base64))
            #expect(ImageInspector.inspect(Array(bytes))?.width == 512)
        }
        let stored = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS images FROM task_images WHERE task_id = $1", [.text(taskID)])
        }
        #expect(try stored.first?.int("images") == 3)
    }

    @Test("gpt-image-1 is called without response_format and charged by the tokens the provider reports")
    func gptImageChargedByTokens() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        // The mock rejects response_format for gpt-image models, as OpenAI does.
        let accepted = try await system.submit(key: key, #"{"prompt": "a robot", "model": "gpt-image-1", "quality": "low"}"#)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        // 2 text tokens × $5/M + 272 output tokens × $40/M = $0.01089, not the table's $0.011.
        #expect(done.json["cost_usd"] as? String == "0.010890")
        let row = try #require(try await system.database.run { connection in
            try connection.query(
                """
                SELECT c.text_input_tokens, c.image_input_tokens, c.output_tokens, r.amount_micro_usd AS reserved, r.state
                FROM charges c JOIN reservations r ON r.task_id = c.task_id AND r.attempt = c.attempt
                WHERE c.task_id = $1
                """,
                [.text(taskID)]
            )
        }.first)
        #expect(try row.optionalInt("text_input_tokens") == 2)
        #expect(try row.optionalInt("image_input_tokens") == 0)
        #expect(try row.optionalInt("output_tokens") == 272)
        // Reserved: the low 1024² bound (272 × $40/M) plus the 7-byte prompt as text tokens.
        #expect(try row.int("reserved") == 10_880 + 7 * 5)
        #expect(try row.string("state") == "settled")
    }
}
