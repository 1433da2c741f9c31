import Foundation
import Testing

@Suite("Who may see what: 401 without a valid key, 404 for others' tasks")
struct AccessTests {
    @Test("a missing, malformed or unknown key is a 401 with the error shape")
    func unauthorized() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }

        for key in [nil, "not-a-key", "ig_" + String(repeating: "0", count: 64)] {
            let result = try await system.request("POST", "/images/generate", key: key, body: #"{"prompt": "x"}"#)
            #expect(result.status == 401)
            #expect((result.json["error"] as? [String: Any])?["code"] as? String == "unauthorized")
            #expect(result.headers["www-authenticate"] == "Bearer")
        }
        let status = try await system.request("GET", "/images/tasks/\(UUID().uuidString)/status", key: nil)
        #expect(status.status == 401)
    }

    @Test("another user's task, an unknown id and a malformed id are all 404")
    func othersTasksAreInvisible() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, ownerKey) = try await system.createUser(name: "owner")
        let (_, otherKey) = try await system.createUser(name: "other")

        let accepted = try await system.submit(key: ownerKey, #"{"prompt": "mine"}"#)
        let taskID = try #require(accepted.json["task_id"] as? String)
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/status", key: ownerKey).status == 200)

        for (id, key) in [(taskID, otherKey), (UUID().uuidString, ownerKey), ("not-a-uuid", ownerKey), ("%27%3B%20DROP%20TABLE%20tasks", ownerKey)] {
            let result = try await system.request("GET", "/images/tasks/\(id)/status", key: key)
            #expect(result.status == 404)
            #expect((result.json["error"] as? [String: Any])?["code"] as? String == "task_not_found")
        }
    }

    @Test("an unknown route is a 404 in the same error shape")
    func unknownRoute() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let result = try await system.request("GET", "/nope", key: nil)
        #expect(result.status == 404)
        #expect((result.json["error"] as? [String: Any])?["code"] as? String == "not_found")
    }
}
