import Foundation
import ImagegenCore
import PostgresClient
import Testing

@Suite("Provider failures store nothing and charge nothing")
struct ProviderFailureTests {
    private func storedEffects(_ system: RunningSystem, taskID: String) async throws -> (images: Int64, charges: Int64) {
        let rows = try await system.database.run { connection in
            try connection.query(
                """
                SELECT (SELECT count(*) FROM task_images WHERE task_id = $1) AS images,
                       (SELECT count(*) FROM charges WHERE task_id = $1) AS charges
                """,
                [.text(taskID)]
            )
        }
        return (try rows.first!.int("images"), try rows.first!.int("charges"))
    }

    @Test("a content-policy rejection fails at once with its code")
    func contentPolicyIsFinal() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        let accepted = try await system.submit(key: key, #"{"prompt": "something [mock:content_policy]"}"#)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "failed")
        #expect(done.json["attempts"] as? Int == 1)
        let error = try #require(done.json["error"] as? [String: Any])
        #expect(error["code"] as? String == "content_policy_violation")
        #expect(done.json["images"] == nil)
        #expect(done.json["cost_usd"] == nil)
        #expect(try await storedEffects(system, taskID: taskID) == (0, 0))
    }

    @Test("server errors are retried with backoff and fail after the last attempt")
    func serverErrorsExhaustAttempts() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        let accepted = try await system.submit(key: key, #"{"prompt": "always broken [mock:500]"}"#)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "failed")
        #expect(done.json["attempts"] as? Int == 3)
        #expect((done.json["error"] as? [String: Any])?["code"] as? String == "provider_unavailable")
        #expect(try await storedEffects(system, taskID: taskID) == (0, 0))
        // The worker acknowledges in Redis just after it commits the outcome the poll saw.
        #expect(try await eventually { try await system.queue.depth() == (0, 0, 0) })
    }

    @Test("a retryable failure followed by success is charged once")
    func retryThenSucceed() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        let prompt = "flaky \(UUID().uuidString) [mock:malformedx1]"
        let accepted = try await system.submit(key: key, #"{"prompt": "\#(prompt)"}"#)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        #expect(done.json["attempts"] as? Int == 2)
        #expect(done.json["error"] == nil)
        #expect(try await storedEffects(system, taskID: taskID) == (1, 1))
    }

    @Test("undecodable base64 is retried, not stored")
    func badBase64IsNotStored() async throws {
        let system = try await RunningSystem.start(
            backoff: BackoffPolicy(baseMilliseconds: 10, factor: 2, capMilliseconds: 50, maxAttempts: 2)
        )
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()

        let accepted = try await system.submit(key: key, #"{"prompt": "garbage [mock:bad_base64]"}"#)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "failed")
        #expect((done.json["error"] as? [String: Any])?["code"] as? String == "invalid_image")
        #expect(try await storedEffects(system, taskID: taskID) == (0, 0))
    }

    @Test("a model the provider does not know fails with model_not_found")
    func retiredModelIsFinal() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let model = try await system.database.addModel(prefix: "retired", unitPrice: 1_000)

        let accepted = try await system.submit(key: key, #"{"prompt": "old style", "model": "\#(model)"}"#)
        #expect(accepted.status == 202)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "failed")
        #expect(done.json["attempts"] as? Int == 1)
        #expect((done.json["error"] as? [String: Any])?["code"] as? String == "model_not_found")
        #expect(try await storedEffects(system, taskID: taskID) == (0, 0))
    }
}
