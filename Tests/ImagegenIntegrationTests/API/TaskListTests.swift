import Foundation
import ImagegenCore
import Testing

@Suite("GET /images/tasks: the caller's tasks, newest first, a page at a time")
struct TaskListTests {
    @Test("pages of 2 walk all 5 tasks newest first, once each; a status filter and other users' tasks are respected")
    func pages() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "gallery")
        let (_, otherKey) = try await system.createUser(name: "someone-else")
        _ = try await system.submit(key: otherKey, #"{"prompt": "not yours"}"#)
        var submitted: [String] = []
        for index in 0..<5 {
            let accepted = try await system.submit(key: key, #"{"prompt": "picture \#(index)"}"#)
            submitted.append(try #require(accepted.json["task_id"] as? String))
        }
        var listed: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await system.request("GET", "/images/tasks?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), key: key)
            #expect(page.status == 200)
            let tasks = try #require(page.json["tasks"] as? [[String: Any]])
            #expect(tasks.count <= 2)
            listed += tasks.compactMap { $0["task_id"] as? String }
            cursor = page.json["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(listed == submitted.reversed())

        #expect(try await system.request("POST", "/images/tasks/\(submitted[1])/cancel", key: key).status == 200)
        let canceled = try await system.request("GET", "/images/tasks?status=canceled", key: key)
        #expect((canceled.json["tasks"] as? [[String: Any]])?.compactMap { $0["task_id"] as? String } == [submitted[1]])
        #expect(canceled.json["next_cursor"] is NSNull)
        let first = try #require((canceled.json["tasks"] as? [[String: Any]])?.first)
        #expect(first["prompt"] as? String == "picture 1")
        #expect(first["images"] == nil)
    }

    @Test("a bad status, limit or cursor is a 400 naming the parameter", arguments: [
        ("status=lost", "status"), ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"), ("limit=1&limit=2", "limit"),
        ("cursor=not-a-cursor", "cursor"), ("cursor=%27%3B%20DROP%20TABLE%20tasks%3B--", "cursor"),
    ])
    func badParameters(query: String, field: String) async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let answer = try await system.request("GET", "/images/tasks?\(query)", key: key)
        #expect(answer.status == 400)
        #expect((answer.json["error"] as? [String: Any])?["field"] as? String == field)
    }
}
