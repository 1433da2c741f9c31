import Foundation
import ImagegenCore
import ImagegenStore
import Testing

@Suite("GET /images/tasks/<id>/images/<n>: one image with its media type, length and cache headers; retention")
struct TaskImageTests {
    @Test("each image comes back byte for byte as in the status answer, with an ETag that answers 304")
    func image() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let accepted = try await system.submit(key: key, #"{"prompt": "two tiles", "model": "dall-e-2", "size": "256x256", "n": 2}"#)
        let taskID = try #require(accepted.json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        let images = try #require(done.json["images"] as? [[String: Any]])
        #expect(done.json["image_urls"] as? [String] == ["/images/tasks/\(taskID)/images/0", "/images/tasks/\(taskID)/images/1"])
        for (position, inline) in images.enumerated() {
            let base64 = try #require(inline["b64_json"] as? String)
            let expected = try #require(Data(base64Encoded: base64))
            let answer = try await system.request("GET", "/images/tasks/\(taskID)/images/\(position)", key: key)
            #expect(answer.status == 200)
            #expect(answer.body == Array(expected))
            #expect(answer.headers["content-type"] == inline["media_type"] as? String)
            #expect(answer.headers["content-length"] == String(expected.count))
            #expect(answer.headers["cache-control"]?.contains("immutable") == true)
            let tag = try #require(answer.headers["etag"])
            let again = try await system.request("GET", "/images/tasks/\(taskID)/images/\(position)", key: key, headers: [("If-None-Match", tag)])
            #expect(again.status == 304)
            #expect(again.body.isEmpty)
        }
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/images/2", key: key).errorCode == "image_not_found")
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/images/-1", key: key).status == 404)
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/images/01", key: key).status == 404)
        let (_, otherKey) = try await system.createUser(name: "not-the-owner")
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/images/0", key: otherKey).errorCode == "task_not_found")
    }

    @Test("a task that has not succeeded has no images yet: 409")
    func notReady() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "later"}"#).json["task_id"] as? String)
        let answer = try await system.request("GET", "/images/tasks/\(taskID)/images/0", key: key)
        #expect(answer.status == 409)
        #expect(answer.errorCode == "images_not_ready")
    }

    @Test("purging removes the bytes (410, status says when) but keeps the task and its charge; newer images stay")
    func purge() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser(name: "retention")
        var taskIDs: [String] = []
        for prompt in ["old", "new"] {
            let accepted = try await system.submit(key: key, #"{"prompt": "\#(prompt)", "model": "dall-e-2", "size": "256x256"}"#)
            let taskID = try #require(accepted.json["task_id"] as? String)
            #expect(try await system.waitForTerminal(taskID: taskID, key: key).json["status"] as? String == "succeeded")
            taskIDs.append(taskID)
        }
        let oldTaskID = taskIDs[0], newTaskID = taskIDs[1]
        try await system.database.run { connection in
            try connection.query("UPDATE tasks SET finished_at = now() - interval '31 days' WHERE id = $1", [.text(oldTaskID)])
        }
        // Purges are global, and another test's `admin purge` may take the old task first: so
        // this checks what is left after the purge, not how much this one call counted.
        _ = try await RetentionStore(database: system.database).purgeImages(finishedBefore: Date(timeIntervalSinceNow: -30 * 86_400))
        let imageRows = try await system.database.run { connection in
            try connection.query(
                "SELECT count(*) FILTER (WHERE task_id = $1) AS old, count(*) FILTER (WHERE task_id = $2) AS new FROM task_images",
                [.text(oldTaskID), .text(newTaskID)]
            )
        }
        #expect(try imageRows.first?.int("old") == 0)
        #expect(try imageRows.first?.int("new") == 1)

        let purged = try await system.request("GET", "/images/tasks/\(taskIDs[0])/status", key: key)
        #expect(purged.json["status"] as? String == "succeeded")
        #expect(purged.json["images_purged_at"] is String)
        #expect(purged.json["images"] == nil && purged.json["image_urls"] == nil)
        #expect(purged.json["cost_usd"] as? String == "0.016000")
        #expect(try await system.request("GET", "/images/tasks/\(taskIDs[0])/images/0", key: key).status == 410)

        let kept = try await system.request("GET", "/images/tasks/\(taskIDs[1])/status", key: key)
        #expect((kept.json["images"] as? [Any])?.count == 1)
        let charges = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS n FROM charges WHERE user_id = $1", [.text(user.id.uuidString)])
        }
        #expect(try charges.first?.int("n") == 2)
    }
}
