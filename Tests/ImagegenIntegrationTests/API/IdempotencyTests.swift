import Foundation
import Testing

@Suite("Idempotency-Key: a retried submission returns the first task instead of paying twice")
struct IdempotencyTests {
    private func count(_ system: RunningSystem, userID: UUID) async throws -> Int64 {
        try await system.database.run { connection in
            try connection.query("SELECT count(*) AS n FROM tasks WHERE user_id = $1", [.text(userID.uuidString)])
        }.first!.int("n")
    }

    @Test("the same key and request return the same task; field order and spelled-out defaults do not matter")
    func replayReturnsSameTask() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        let first = try await system.submit(key: key, #"{"prompt": "a fox", "size": "1024x1024"}"#, idempotencyKey: "order-17")
        let again = try await system.submit(key: key, #"{"model": "dall-e-3", "prompt": "a fox"}"#, idempotencyKey: "order-17")
        #expect(first.status == 202)
        #expect(again.status == 202)
        #expect(first.headers["idempotent-replayed"] == nil)
        #expect(again.headers["idempotent-replayed"] == "true")
        #expect(again.json["task_id"] as? String == first.json["task_id"] as? String)
        #expect(try await count(system, userID: user.id) == 1)
        // The API enqueues after its 202.
        #expect(try await eventually { try await system.queue.depth() == (1, 0, 0) })
    }

    @Test("the same key with a different request is a 409 and creates nothing")
    func differentBodyConflicts() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        _ = try await system.submit(key: key, #"{"prompt": "a fox"}"#, idempotencyKey: "k1")
        let conflict = try await system.submit(key: key, #"{"prompt": "a wolf"}"#, idempotencyKey: "k1")
        #expect(conflict.status == 409)
        #expect((conflict.json["error"] as? [String: Any])?["code"] as? String == "idempotency_key_reused")
        #expect(try await count(system, userID: user.id) == 1)
    }

    @Test("keys belong to one user: another user's identical key makes a new task")
    func keysArePerUser() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, alice) = try await system.createUser(name: "alice")
        let (_, bob) = try await system.createUser(name: "bob")
        let a = try await system.submit(key: alice, #"{"prompt": "a fox"}"#, idempotencyKey: "shared")
        let b = try await system.submit(key: bob, #"{"prompt": "a fox"}"#, idempotencyKey: "shared")
        #expect(b.status == 202)
        #expect(a.json["task_id"] as? String != b.json["task_id"] as? String)
    }

    @Test("twenty concurrent submissions with one key create exactly one task")
    func concurrentReplays() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        let ids = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<20 {
                group.addTask { try await system.submit(key: key, #"{"prompt": "race"}"#, idempotencyKey: "race-1").json["task_id"] as? String }
            }
            return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        #expect(ids.first! != nil)
        #expect(try await count(system, userID: user.id) == 1)
    }

    @Test("an over-long, non-ASCII or spaced key is a 400", arguments: [String(repeating: "k", count: 256), "clé", "has space"])
    func invalidKey(_ idempotencyKey: String) async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        let result = try await system.submit(key: key, #"{"prompt": "x"}"#, idempotencyKey: idempotencyKey)
        #expect(result.status == 400)
        #expect((result.json["error"] as? [String: Any])?["code"] as? String == "invalid_idempotency_key")
        #expect(try await count(system, userID: user.id) == 0)
    }
}
