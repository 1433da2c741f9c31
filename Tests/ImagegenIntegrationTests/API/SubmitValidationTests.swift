import Foundation
import PostgresClient
import Testing

@Suite("POST /images/generate refuses bad input with a field-naming error")
struct SubmitValidationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let body: String
        let status: Int
        let code: String
        let field: String?
        var testDescription: String { body }
    }

    static let cases: [Case] = [
        Case(body: "{", status: 400, code: "invalid_json", field: nil),
        Case(body: "[1, 2]", status: 400, code: "invalid_body", field: nil),
        Case(body: "{}", status: 422, code: "missing_field", field: "prompt"),
        Case(body: #"{"prompt": 42}"#, status: 422, code: "invalid_type", field: "prompt"),
        Case(body: #"{"prompt": "   "}"#, status: 422, code: "invalid_value", field: "prompt"),
        Case(body: #"{"prompt": "x\u0000y"}"#, status: 422, code: "invalid_value", field: "prompt"),
        Case(body: #"{"prompt": "x", "model": "dall-e-9"}"#, status: 422, code: "unknown_model", field: "model"),
        Case(body: #"{"prompt": "x", "size": "512x512"}"#, status: 422, code: "invalid_value", field: "size"),
        Case(body: #"{"prompt": "x", "quality": "ultra"}"#, status: 422, code: "invalid_value", field: "quality"),
        Case(body: #"{"prompt": "x", "style": "sepia"}"#, status: 422, code: "invalid_value", field: "style"),
        Case(body: #"{"prompt": "x", "n": 2}"#, status: 422, code: "invalid_value", field: "n"),
        Case(body: #"{"prompt": "x", "n": "1"}"#, status: 422, code: "invalid_type", field: "n"),
        Case(body: #"{"prompt": "x", "n": 1.5}"#, status: 422, code: "invalid_type", field: "n"),
        Case(body: #"{"prompt": "x", "model": "dall-e-2", "n": 11}"#, status: 422, code: "invalid_value", field: "n"),
        Case(body: #"{"prompt": "x", "model": "dall-e-2", "n": 0}"#, status: 422, code: "invalid_value", field: "n"),
        Case(body: #"{"prompt": "x", "model": "dall-e-2", "style": "vivid"}"#, status: 422, code: "invalid_value", field: "style"),
        Case(body: #"{"prompt": "x", "model": "dall-e-2", "quality": "hd"}"#, status: 422, code: "invalid_value", field: "quality"),
        Case(body: #"{"prompt": "x", "model": "gpt-image-1", "size": "1792x1024"}"#, status: 422, code: "invalid_value", field: "size"),
        Case(body: #"{"prompt": "x", "sise": "1024x1024"}"#, status: 422, code: "unknown_field", field: "sise"),
        Case(body: #"{"prompt": "x", "user": 7}"#, status: 422, code: "invalid_type", field: "user"),
    ]

    @Test("each invalid field gets its own status, code and field", arguments: cases)
    func rejects(_ testCase: Case) async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()

        let result = try await system.submit(key: key, testCase.body)
        #expect(result.status == testCase.status)
        let error = try #require(result.json["error"] as? [String: Any])
        #expect(error["code"] as? String == testCase.code)
        #expect(error["field"] as? String == testCase.field)
        #expect((error["message"] as? String)?.isEmpty == false)
        let tasks = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS tasks FROM tasks WHERE user_id = $1", [.text(user.id.uuidString)])
        }
        #expect(try tasks.first?.int("tasks") == 0)
    }

    @Test("prompt length limits follow the model: 4000 for dall-e-3, 1000 for dall-e-2")
    func promptLengthPerModel() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        let atLimit = String(repeating: "a", count: 4000)
        #expect(try await system.submit(key: key, #"{"prompt": "\#(atLimit)"}"#).status == 202)
        let over = try await system.submit(key: key, #"{"prompt": "\#(atLimit)a"}"#)
        #expect(over.status == 422)
        #expect((over.json["error"] as? [String: Any])?["code"] as? String == "prompt_too_long")
        let dallE2 = try await system.submit(key: key, #"{"prompt": "\#(String(repeating: "b", count: 1001))", "model": "dall-e-2"}"#)
        #expect(dallE2.status == 422)
        #expect((dallE2.json["error"] as? [String: Any])?["field"] as? String == "prompt")
    }

    @Test("a body over the limit is refused with 413")
    func bodyTooLarge() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        let result = try await system.submit(key: key, #"{"prompt": "\#(String(repeating: "z", count: 300_000))"}"#)
        #expect(result.status == 413)
        #expect((result.json["error"] as? [String: Any])?["code"] as? String == "body_too_large")
    }

    @Test("defaults are dall-e-3, 1024x1024, standard, n=1, and the task waits in Redis")
    func defaultsAreRecorded() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        let result = try await system.submit(key: key, #"{"prompt": "defaults"}"#)
        let taskID = try #require(result.json["task_id"] as? String)
        let rows = try await system.database.run { connection in
            try connection.query(
                "SELECT model, size, quality, n, status, unit_price_micro_usd FROM tasks WHERE id = $1", [.text(taskID)]
            )
        }
        let row = try #require(rows.first)
        #expect(try row.string("model") == "dall-e-3")
        #expect(try row.string("size") == "1024x1024")
        #expect(try row.string("quality") == "standard")
        #expect(try row.int("n") == 1)
        #expect(try row.string("status") == "queued")
        #expect(try row.int("unit_price_micro_usd") == 40_000)
        // The enqueue follows the answer.
        #expect(try await eventually { try await system.queue.depth() == (1, 0, 0) })
        let entry = try await system.queue.entry(taskID: try #require(UUID(uuidString: taskID)))
        #expect(entry?.attempt == 0)
        #expect(entry?.backoff.maxAttempts == 3)
    }
}
