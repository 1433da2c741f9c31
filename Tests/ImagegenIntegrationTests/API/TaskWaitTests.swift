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
        async let answer = system.request("GET", "/images/tasks/\(taskID)/status?wait=8", key: key)
        try await Task.sleep(for: .milliseconds(700))
        let canceled = try await TaskStore(database: system.database).cancel(taskID: try #require(UUID(uuidString: taskID)), userID: user.id)
        #expect(canceled == .canceled)
        let result = try await answer
        let elapsed = ContinuousClock.now - started
        #expect(result.json["status"] as? String == "canceled")
        #expect(elapsed >= .milliseconds(600))
        #expect(elapsed < .seconds(4), "the poll should wake on the NOTIFY, not at wait=8")
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
        #expect(elapsed >= .milliseconds(950) && elapsed < .seconds(4))
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

    @Test("the event stream sends queued, running and succeeded, then ends")
    func events() async throws {
        var plan = FaultPlan()
        plan.latencyMilliseconds = 400
        let system = try await RunningSystem.start(plan: plan)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(
            try await system.submit(key: key, #"{"prompt": "stream me", "model": "dall-e-2", "size": "256x256"}"#).json["task_id"] as? String
        )
        let stream = try await system.request("GET", "/images/tasks/\(taskID)/events", key: key)
        #expect(stream.status == 200)
        #expect(stream.headers["content-type"] == "text/event-stream")
        let text = String(decoding: stream.body, as: UTF8.self)
        let events = text.components(separatedBy: "\n\n").filter { $0.hasPrefix("event: status\ndata: ") }
        let statuses = try events.map { event in
            let data = Data(event.dropFirst("event: status\ndata: ".count).utf8)
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])["status"] as? String
        }
        #expect(statuses.last == "succeeded")
        #expect(statuses.contains("running"))
        #expect(Set(statuses.dropLast()).isSubset(of: ["queued", "running"]))
        #expect(!text.contains("b64_json"))
        let unknown = try await system.request("GET", "/images/tasks/\(UUID().uuidString)/events", key: key)
        #expect(unknown.status == 404)
    }
}
