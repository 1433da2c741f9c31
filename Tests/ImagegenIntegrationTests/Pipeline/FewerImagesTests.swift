import Foundation
import Testing

@Suite("Fewer images than asked: charged as the provider reports, and shown as such")
struct FewerImagesTests {
    @Test("n=3 answered with 2 images: per-image models charge 2 images, token models the reported tokens; the rest is released")
    func fewerImages() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "fewer")
        let cases: [(body: String, cost: Int)] = [
            // dall-e-2 at 256x256 costs $0.016 an image: two of them.
            (#"{"prompt": "three foxes [mock:fewer_images]", "model": "dall-e-2", "size": "256x256", "n": 3}"#, 2 * 16_000),
            // gpt-image-2, low, 1024x1024: 272 output tokens an image at $30/M for two images, and the
            // mock's prompt tokens (a token per four characters) at $5/M.
            (#"{"prompt": "three owls [mock:fewer_images]", "model": "gpt-image-2", "quality": "low", "n": 3}"#, 2 * 272 * 30 + 8 * 5),
        ]
        for (body, cost) in cases {
            let taskID = try #require(try await system.submit(key: key, body).json["task_id"] as? String)
            let done = try await system.waitForTerminal(taskID: taskID, key: key)
            #expect(done.json["status"] as? String == "succeeded", "\(body)")
            #expect(done.json["n"] as? Int == 3, "\(body)")
            #expect((done.json["image_urls"] as? [String])?.count == 2, "\(body)")
            #expect((done.json["images"] as? [[String: Any]])?.count == 2, "\(body)")
            #expect(done.json["cost_micro_usd"] as? Int == cost, "\(body)")
        }
        let usage = try await system.request("GET", "/me/usage", key: key).json
        let day = try #require(usage["day"] as? [String: Any])
        #expect(day["reserved_usd"] as? String == "0.000000")
        #expect(day["spent_usd"] as? String == "0.048360")
    }
}
