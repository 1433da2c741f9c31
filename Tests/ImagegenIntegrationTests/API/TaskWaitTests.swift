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

    @Test("long polls and event streams past a user's cap are a 429 with Retry-After; other users and freed places are not held back")
    func waitersAreCapped() async throws {
        let system = try await RunningSystem.start(worker: nil, waitersPerUser: 2)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "watched"}"#).json["task_id"] as? String)
        let url = system.apiBaseURL + "/images/tasks/\(taskID)/events"
        // Two streams that have sent their first event hold both places.
        let streams = try (0..<2).map { _ in try EventStreamReader(url: url, key: key) }
        for stream in streams { #expect(await stream.waitForStatuses { $0 == ["queued"] }) }

        let refused = try await system.request("GET", "/images/tasks/\(taskID)/status?wait=5", key: key)
        #expect(refused.status == 429)
        #expect(refused.errorCode == "too_many_waiters")
        #expect(refused.headers["retry-after"] == "2")
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/events", key: key).status == 429)
        // A plain status read is no waiter, and another user has places of their own.
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/status", key: key).status == 200)
        let (_, otherKey) = try await system.createUser(name: "other")
        let otherTask = try #require(try await system.submit(key: otherKey, #"{"prompt": "mine"}"#).json["task_id"] as? String)
        #expect(try await system.request("GET", "/images/tasks/\(otherTask)/status?wait=1", key: otherKey).status == 200)

        // The task ends, the streams end, and their places are free again.
        _ = try await TaskStore(database: system.database).cancel(taskID: try #require(UUID(uuidString: taskID)), userID: user.id)
        for stream in streams { #expect(await stream.waitForEnd()) }
        #expect(try await eventually {
            try await system.request("GET", "/images/tasks/\(taskID)/status?wait=1", key: key).status == 200
        })
    }

    @Test("an event stream with no change for the idle timeout ends, so a forgotten client holds nothing")
    func idleStreamEnds() async throws {
        let system = try await RunningSystem.start(worker: nil, streamIdleTimeout: .seconds(1))
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "nobody works on this"}"#).json["task_id"] as? String)
        let stream = try EventStreamReader(url: system.apiBaseURL + "/images/tasks/\(taskID)/events", key: key)
        #expect(await stream.waitForEnd())
        #expect(stream.statuses == ["queued"])
    }

    @Test("a lost LISTEN connection is replaced and waiters re-read: a long poll still wakes on the change")
    func listenerComesBack() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "keep listening"}"#).json["task_id"] as? String)
        let name = system.listenerApplicationName
        func listenerPIDs() async throws -> [Int64] {
            try await system.database.run { connection in
                try connection.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [.text(name)])
            }.map { try $0.int("pid") }
        }
        #expect(try await eventually { try await listenerPIDs().count == 1 })
        let first = try await listenerPIDs()
        let started = ContinuousClock.now
        async let answer = system.request("GET", "/images/tasks/\(taskID)/status?wait=30", key: key)
        try await system.database.run { connection in
            for pid in first { try connection.query("SELECT pg_terminate_backend($1)", [.int(pid)]) }
        }
        #expect(try await eventually { let now = try await listenerPIDs(); return now.count == 1 && now != first })
        _ = try await TaskStore(database: system.database).cancel(taskID: try #require(UUID(uuidString: taskID)), userID: user.id)
        let answered = try await answer
        #expect(answered.json["status"] as? String == "canceled", "answered \(answered.status): \(answered.json)")
        #expect(ContinuousClock.now - started < .seconds(25), "the poll should wake on the change, not at wait=30")
    }
}
