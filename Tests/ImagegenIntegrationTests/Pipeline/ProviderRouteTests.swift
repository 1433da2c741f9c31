import Foundation
import ImagegenProviderGate
import ImagegenStore
import Testing

@Suite("Provider routes: Replicate end to end, progress and drafts on the event stream, fallback when a route is down")
struct ProviderRouteTests {
    @Test("a gpt-image-2 task asking for partial images: each draft reaches an event-stream client while the call runs, before succeeded")
    func partialImagesOnTheStream() async throws {
        let system = try await RunningSystem.start(defaultModel: "gpt-image-2")
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "drafts")
        let taskID = try #require(try await system.submit(
            key: key, #"{"prompt": "a heron, drawn slowly [mock:hold]", "quality": "low", "partial_images": 2}"#
        ).json["task_id"] as? String)
        let stream = try EventStreamReader(url: system.apiBaseURL + "/images/tasks/\(taskID)/events", key: key)
        // The mock streams both drafts, then holds the final image until released.
        #expect(await stream.waitForEvents { events in
            events.contains { $0.name == "partial_image" && $0.task["partial_image_index"] as? Int == 1 }
        })
        let running = try await system.request("GET", "/images/tasks/\(taskID)/status", key: key)
        #expect(running.json["status"] as? String == "running")
        #expect(running.json["partial_images"] as? Int == 2)
        try await system.releaseHeldCalls()
        #expect(await stream.waitForEnd())

        let events = stream.events
        let draft = try #require(events.last { $0.name == "partial_image" })
        #expect(draft.task["task_id"] as? String == taskID)
        #expect(draft.task["media_type"] as? String == "image/png")
        let bytes = try #require(Data(base64Encoded: draft.task["b64_json"] as? String ?? ""))
        #expect(Array(bytes.prefix(4)) == [0x89, 0x50, 0x4e, 0x47], "the draft is a PNG")
        let lastDraft = try #require(events.lastIndex { $0.name == "partial_image" })
        let succeeded = try #require(events.firstIndex { $0.task["status"] as? String == "succeeded" })
        #expect(lastDraft < succeeded)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect((done.json["images"] as? [[String: Any]])?.count == 1, "drafts are shown, not kept as the task's images")
        #expect(try await system.providerCalls()["a heron, drawn slowly [mock:hold]"] == 1)
    }

    @Test("flux-schnell runs on its Replicate route; the prediction's states reach an event-stream client as progress before succeeded")
    func replicateWithProgress() async throws {
        let system = try await RunningSystem.start(otherProviders: ["replicate": .replicate])
        defer { Task { await system.stop() } }
        // Seeded disabled, since a deployment must call Replicate first; this one does.
        #expect(try await CatalogStore(database: system.database).setEnabled(model: "flux-schnell", true))
        let (_, key) = try await system.createUser(name: "replicate")
        let prompt = "a paper crane [mock:queued]"
        let taskID = try #require(try await system.submit(
            key: key, #"{"prompt": "\#(prompt)", "model": "flux-schnell", "n": 2, "output_format": "webp"}"#
        ).json["task_id"] as? String)
        let stream = try EventStreamReader(url: system.apiBaseURL + "/images/tasks/\(taskID)/events", key: key)
        // The mock's prediction moves on one state per release, so the client is connected before each change.
        #expect(await stream.waitForEvents { $0.contains { $0.task["progress"] as? String == "starting" } })
        try await system.releaseHeldCalls(on: "replicate")
        #expect(await stream.waitForEvents { $0.contains { $0.name == "progress" && $0.task["progress"] as? String == "processing" } })
        let status = try await system.request("GET", "/images/tasks/\(taskID)/status", key: key)
        #expect(status.json["progress"] as? String == "processing", "the status answer says how far the task has come")
        try await system.releaseHeldCalls(on: "replicate")
        #expect(await stream.waitForEnd())

        let events = stream.events
        let processing = try #require(events.firstIndex { $0.name == "progress" && $0.task["progress"] as? String == "processing" })
        let succeeded = try #require(events.firstIndex { $0.task["status"] as? String == "succeeded" })
        #expect(processing < succeeded)
        #expect(events[succeeded].name == "status")
        #expect(events[succeeded].task["progress"] == nil, "an ended task has no progress")

        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect(done.json["provider"] as? String == "replicate")
        #expect(done.json["cost_micro_usd"] as? Int == 6_000, "two outputs at $0.003")
        #expect((done.json["images"] as? [[String: Any]])?.map { $0["media_type"] as? String } == ["image/webp", "image/webp"])
        let charge = try #require(try await system.database.run { connection in
            try connection.query("SELECT provider, images FROM charges WHERE task_id = $1", [.text(taskID)])
        }.first)
        #expect(try charge.optionalString("provider") == "replicate")
        #expect(try charge.int("images") == 2)
        #expect(try await system.providerCalls(on: "replicate")[prompt] == 1)
        #expect(try await system.providerCalls()[prompt] == nil)
    }

    @Test("with its own route's breaker open, a fallback task succeeds on another route of its tier at that price; a task without fallback waits")
    func fallbackWhenTheRouteIsDown() async throws {
        let settings = GateSettings(breakerFailures: 2, breakerWindow: .seconds(600), breakerCooldown: .seconds(600))
        let system = try await RunningSystem.start(gate: settings, otherProviders: ["replicate": .replicate])
        defer { Task { await system.stop() } }
        // Two models of one tier, added before the API first reads the catalog: one on OpenAI at
        // $0.01 an image, one on Replicate at $0.003.
        let primary = try await system.database.addModel(prefix: "fast-openai", unitPrice: 10_000)
        let backup = try await system.database.addModel(prefix: "fast-replicate", unitPrice: 3_000)
        let tier = "tier-\(UUID().uuidString.prefix(6).lowercased())"
        try await system.database.run { connection in
            try connection.query("UPDATE models SET tier = $1 WHERE name IN ($2, $3)", [.text(tier), .text(primary), .text(backup)])
            try connection.query(
                """
                INSERT INTO model_routes (model, provider, provider_model, position)
                VALUES ($1, 'openai', NULL, 1), ($2, 'replicate', 'black-forest-labs/flux-schnell', 1)
                """,
                [.text(primary), .text(backup)]
            )
        }
        // Two failed calls open the OpenAI route's breaker for ten minutes.
        let gate = system.gate(settings: settings)
        for _ in 0..<2 {
            try await gate.report(.failed, of: try await gate.admit(images: 1))
        }
        #expect(try await gate.status().breaker == .open)

        let (_, key) = try await system.createUser(name: "falls back")
        let waiting = try #require(try await system.submit(key: key, #"{"prompt": "waits for its own route", "model": "\#(primary)"}"#)
            .json["task_id"] as? String)
        let moved = try #require(try await system.submit(
            key: key, #"{"prompt": "moves to another route", "model": "\#(primary)", "fallback": true}"#
        ).json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: moved, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect(done.json["provider"] as? String == "replicate")
        #expect(done.json["model"] as? String == backup)
        #expect(done.json["cost_micro_usd"] as? Int == 3_000, "charged the route's price, not the $0.01 of the model asked for")
        let reserved = try await system.database.run { connection in
            try connection.query("SELECT amount_micro_usd FROM reservations WHERE task_id = $1", [.text(moved)])
        }.map { try $0.int("amount_micro_usd") }
        #expect(reserved == [3_000], "the reservation followed the new price before the call")
        let charge = try #require(try await system.database.run { connection in
            try connection.query("SELECT provider, model FROM charges WHERE task_id = $1", [.text(moved)])
        }.first)
        #expect(try charge.optionalString("provider") == "replicate")
        #expect(try charge.string("model") == backup)

        // A user whose default is fallback moves without asking.
        let (user, otherKey) = try await system.createUser(name: "falls back by default")
        try await system.database.run { connection in
            try connection.query("UPDATE users SET fallback = true WHERE id = $1", [.text(user.id.uuidString)])
        }
        let byDefault = try #require(try await system.submit(key: otherKey, #"{"prompt": "moves by default", "model": "\#(primary)"}"#)
            .json["task_id"] as? String)
        #expect(try await system.waitForTerminal(taskID: byDefault, key: otherKey).json["provider"] as? String == "replicate")

        // The task without fallback is still waiting at its own route, never sent anywhere.
        let stillWaiting = try await system.request("GET", "/images/tasks/\(waiting)/status", key: key)
        #expect(stillWaiting.json["status"] as? String == "queued")
        #expect(stillWaiting.json["provider"] as? String == "openai")
        #expect(try await system.providerCalls()["waits for its own route"] == nil)
        #expect(try await system.providerCalls(on: "replicate")["waits for its own route"] == nil)
        #expect(try await system.providerCalls(on: "replicate")["moves to another route"] == 1)
        #expect(try await system.providerCalls()["moves to another route"] == nil)
    }
}
