import Foundation
import ImagegenCore
import Testing

@Suite("405 with Allow for a known path, 415 for bodies that are not JSON, and Retry-After for pollers")
struct HTTPContractTests {
    @Test("a body declared as anything but JSON is a 415; JSON with a charset is accepted")
    func mediaType() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let body = #"{"prompt": "a lighthouse"}"#
        for type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
            let refused = try await system.request("POST", "/images/generate", key: key, body: body, headers: [("Content-Type", type)])
            #expect(refused.status == 415, "\(type)")
            #expect((refused.json["error"] as? [String: Any])?["code"] as? String == "unsupported_media_type")
        }
        let accepted = try await system.request(
            "POST", "/images/generate", key: key, body: body, headers: [("Content-Type", "Application/JSON; charset=utf-8")]
        )
        #expect(accepted.status == 202)
        // The answer goes out once the row is committed; the enqueue follows it.
        #expect(try await eventually { try await system.queue.depth().ready == 1 })
    }

    @Test("the 202 and unfinished statuses carry Retry-After; a finished one does not")
    func retryAfter() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let accepted = try await system.submit(key: key, #"{"prompt": "slow [mock:500x1]", "model": "dall-e-2", "size": "256x256"}"#)
        #expect(accepted.status == 202)
        #expect(accepted.headers["retry-after"] == "2")
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect(done.headers["retry-after"] == nil)
    }

    @Test("an unfinished task's status answer carries Retry-After")
    func retryAfterWhileQueued() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let accepted = try await system.submit(key: key, #"{"prompt": "waits"}"#)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let status = try await system.request("GET", "/images/tasks/\(taskID)/status", key: key)
        #expect(status.json["status"] as? String == "queued")
        #expect(status.headers["retry-after"] == "2")
    }

    @Test("a known path asked with another method is a 405 naming the allowed ones; an unknown path stays 404", arguments: [
        ("GET", "/images/generate", "POST"), ("DELETE", "/images/generate", "POST"), ("PUT", "/images/tasks/x/status", "GET"),
        ("POST", "/images/tasks", "GET"), ("GET", "/images/tasks/x/cancel", "POST"),
    ])
    func methodNotAllowed(method: String, path: String, allowed: String) async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let answer = try await system.request(method, path, key: key, body: "{}")
        #expect(answer.status == 405)
        #expect(answer.errorCode == "method_not_allowed")
        #expect(answer.headers["allow"] == allowed)
        #expect(try await system.request(method, path + "/more", key: key, body: "{}").status == 404)
    }
}
