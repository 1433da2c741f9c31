import Foundation
import PostgresClient
import RedisClient
import Testing

@Suite("Submitting when a dependency is missing")
struct DependencyFailureTests {
    @Test("with Redis down the API still accepts the task: PostgreSQL holds it as queued for the reconciler")
    func redisDown() async throws {
        let system = try await RunningSystem.start(worker: nil, redisURL: RedisURL(host: "127.0.0.1", port: 1))
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()

        let result = try await system.submit(key: key, #"{"prompt": "Redis is down"}"#)
        #expect(result.status == 202)
        let rows = try await system.database.run { connection in
            try connection.query("SELECT id, status FROM tasks WHERE user_id = $1", [.text(user.id.uuidString)])
        }
        #expect(rows.count == 1)
        #expect(try rows.first?.string("status") == "queued")
        #expect(try rows.first?.string("id") == result.json["task_id"] as? String)
    }

    @Test("a model with no price for the requested size is refused before anything is stored")
    func unpricedCombination() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        let model = try await system.database.addModel(prefix: "unpriced", unitPrice: nil)

        let result = try await system.submit(key: key, #"{"prompt": "x", "model": "\#(model)"}"#)
        #expect(result.status == 422)
        #expect((result.json["error"] as? [String: Any])?["code"] as? String == "price_unavailable")
        let rows = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS n FROM tasks WHERE user_id = $1", [.text(user.id.uuidString)])
        }
        #expect(try rows.first?.int("n") == 0)
    }
}
