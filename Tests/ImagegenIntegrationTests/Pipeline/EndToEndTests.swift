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
        #expect(try await system.queue.depth() == (0, 0, 0))
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

    @Test("gpt-image-1 is called without response_format and is charged at its table price")
    func gptImageOmitsResponseFormat() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        // The mock rejects response_format for gpt-image models, as OpenAI does.
        let accepted = try await system.submit(key: key, #"{"prompt": "a robot", "model": "gpt-image-1", "quality": "low"}"#)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect(done.json["cost_usd"] as? String == "0.011000")
    }
}
