import Foundation
import ImagegenCore
import ImagegenStore
import MockProvider
import Testing

@Suite("?wait=N long polls and the event stream wake on the task's change, not on a timer")
struct TaskWaitTests {
    @Test("a long poll on a queued task answers as soon as a change is committed, long before N")
    func wakesOnChange() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "wait for me"}"#).json["task_id"] as? String)
        let started = ContinuousClock.now
        async let answer = system.request("GET", "/images/tasks/\(taskID)/status?wait=30", key: key)
        try await Task.sleep(for: .milliseconds(700))
        let canceled = try await TaskStore(database: system.database).cancel(taskID: try #require(UUID(uuidString: taskID)), userID: user.id)
        #expect(canceled == .canceled)
        let result = try await answer
        let elapsed = ContinuousClock.now - started
        #expect(result.json["status"] as? String == "canceled")
        #expect(elapsed >= .milliseconds(600))
        // Only the NOTIFY can end a wait of 30 s this early; the bound is a liveness guard, not a speed test.
        #expect(elapsed < .seconds(25), "the poll should wake on the NOTIFY, not at wait=30")
    }

    @Test("with no change the long poll answers the unchanged status after N seconds")
    func timesOut() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "nothing happens"}"#).json["task_id"] as? String)
        let started = ContinuousClock.now
        let result = try await system.request("GET", "/images/tasks/\(taskID)/status?wait=1", key: key)
        let elapsed = ContinuousClock.now - started
        #expect(result.json["status"] as? String == "queued")
        #expect(result.headers["retry-after"] == "2")
        #expect(elapsed >= .milliseconds(950))
        #expect(elapsed < .seconds(20), "liveness guard")
    }

    @Test("wait above 30 or not a number is a 400; a finished task answers at once", arguments: ["31", "-1", "soon", "1&wait=2"])
    func badWait(value: String) async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "p"}"#).json["task_id"] as? String)
        let answer = try await system.request("GET", "/images/tasks/\(taskID)/status?wait=\(value)", key: key)
        #expect(answer.status == 400)
        #expect((answer.json["error"] as? [String: Any])?["field"] as? String == "wait")
    }

    @Test("the event stream sends the status now and at each change, then ends with succeeded")
    func events() async throws {
        // The mock holds the call until the stream has shown `running`, whatever the machine's speed.
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(
            try await system.submit(key: key, #"{"prompt": "stream me [mock:hold]", "model": "dall-e-2", "size": "256x256"}"#)
                .json["task_id"] as? String
        )
        let stream = try EventStreamReader(url: system.apiBaseURL + "/images/tasks/\(taskID)/events", key: key)
        #expect(await stream.waitForStatuses { $0.contains("running") })
        try await system.releaseHeldCalls()
        #expect(await stream.waitForEnd())
        #expect(stream.headerFields["content-type"] == "text/event-stream")
        let statuses = stream.statuses
        #expect(statuses.last == "succeeded")
        #expect(Set(statuses.dropLast()).isSubset(of: ["queued", "running"]))
        #expect(!stream.text.contains("b64_json"))
        let unknown = try await system.request("GET", "/images/tasks/\(UUID().uuidString)/events", key: key)
        #expect(unknown.status == 404)
    }
}
