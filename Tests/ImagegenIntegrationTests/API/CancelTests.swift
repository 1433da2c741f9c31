import Foundation
import ImagegenCore
import MockProvider
import Testing

@Suite("POST /images/tasks/<id>/cancel")
struct CancelTests {
    private func cancel(_ system: RunningSystem, _ taskID: String, key: String) async throws -> RunningSystem.HTTPResult {
        try await system.request("POST", "/images/tasks/\(taskID)/cancel", key: key)
    }

    private func code(_ result: RunningSystem.HTTPResult) -> String? {
        (result.json["error"] as? [String: Any])?["code"] as? String
    }

    @Test("a queued task is canceled at once, leaves the queue, and cancelling again is harmless")
    func cancelQueued() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "never mind"}"#).json["task_id"] as? String)
        // The API enqueues after its 202: cancel once the task is on the queue, so the cancel is what takes it off.
        #expect(try await eventually { try await system.queue.depth() == (1, 0, 0) })
        let result = try await cancel(system, taskID, key: key)
        #expect(result.status == 200)
        #expect(result.json["status"] as? String == "canceled")
        #expect(result.json["cost_usd"] == nil)
        #expect(try await system.queue.depth() == (0, 0, 0))
        #expect(try await cancel(system, taskID, key: key).json["status"] as? String == "canceled")
    }

    @Test("a retrying task is canceled before the provider is called again, with no charge")
    func cancelRetrying() async throws {
        let system = try await RunningSystem.start(
            backoff: .init(baseMilliseconds: 60_000, factor: 2, capMilliseconds: 60_000, maxAttempts: 3)
        )
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "[mock:500] busy"}"#).json["task_id"] as? String)
        try await system.waitForStatus(.retrying, taskID: taskID, key: key)
        // The worker records the retry in PostgreSQL first and then puts it back on the queue,
        // due in a minute: cancel once it is there, so the cancel is what takes it off.
        #expect(try await eventually { try await system.queue.depth() == (0, 1, 0) })
        let result = try await cancel(system, taskID, key: key)
        #expect(result.json["status"] as? String == "canceled")
        #expect(result.json["attempts"] as? Int == 1)
        #expect(try await system.queue.depth() == (0, 0, 0))
    }

    @Test("a running task is marked, then ends canceled when its attempt ends; the provider's charge is kept")
    func cancelRunning() async throws {
        // The mock holds the call until the test has asked to cancel, whatever the machine's speed.
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "slow one [mock:hold]"}"#).json["task_id"] as? String)
        try await system.waitForStatus(.running, taskID: taskID, key: key)
        let marked = try await cancel(system, taskID, key: key)
        #expect(marked.status == 200)
        #expect(marked.json["status"] as? String == "running")
        #expect(marked.json["cancel_requested"] as? Bool == true)
        try await system.releaseHeldCalls()
        let final = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(final.json["status"] as? String == "canceled")
        #expect(final.json["images"] == nil)
        #expect(final.json["cost_micro_usd"] as? Int == 40_000)
    }

    @Test("a succeeded task cannot be canceled (409); another user's or an unknown task is 404")
    func cancelRefusals() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let (_, other) = try await system.createUser(name: "other")
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "done"}"#).json["task_id"] as? String)
        _ = try await system.waitForTerminal(taskID: taskID, key: key)
        let finished = try await cancel(system, taskID, key: key)
        #expect(finished.status == 409)
        #expect(code(finished) == "task_already_finished")
        #expect(try await cancel(system, taskID, key: other).status == 404)
        #expect(try await cancel(system, UUID().uuidString, key: key).status == 404)
    }
}
