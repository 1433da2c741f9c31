import Foundation
import ImagegenCore
import ImagegenStore
import Testing

@Suite("Operator routes under /admin: admin keys only; the queue, dead letters, cancel and spend per user")
struct OperatorRoutesTests {
    private func adminKey(_ system: RunningSystem, name: String = "operator") async throws -> String {
        let (user, _) = try await system.createUser(name: name)
        return try await UserStore(database: system.database).createKey(userID: user.id, label: "ops", isAdmin: true).1.secret
    }

    /// A task of `userID` on the system's queue that used its one attempt and failed.
    private func failedTask(_ system: RunningSystem, userID: UUID, code: String) async throws -> String {
        let taskID = try await TaskStore(database: system.database).createTask(userID: userID, maxAttempts: 1, queue: system.queue.name)
        let attempts = AttemptStore(database: system.database, takeoverAfter: .zero)
        let attempt = try #require(try await attempts.beginAttempt(taskID: taskID))
        _ = try await attempts.fail(attempt, error: TaskError(code: code, message: "the provider said no"), providerMayHaveBilled: false)
        return taskID.uuidString.lowercased()
    }

    @Test("every /admin operation of the document answers an ordinary key 403 admin_required, and an admin key 200")
    func adminOnly() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser(name: "customer")
        let admin = try await adminKey(system)
        let failed = try await failedTask(system, userID: user.id, code: "provider_unavailable")
        let document = try await system.request("GET", "/openapi.json", key: nil).json
        let paths = try #require(document["paths"] as? [String: [String: Any]]).filter { $0.key.hasPrefix("/admin/") }
        #expect(paths.count == 5)
        for (path, operations) in paths {
            for method in operations.keys {
                let concrete = path.replacingOccurrences(of: "{id}", with: failed)
                let refused = try await system.request(method.uppercased(), concrete, key: key)
                #expect(refused.status == 403, "\(method) \(path)")
                #expect(refused.errorCode == "admin_required", "\(method) \(path)")
            }
        }
        #expect(try await system.request("GET", "/admin/queue", key: admin).status == 200)
        // The refusals changed nothing: the failed task is still failed.
        let row = try await system.database.run { try $0.query("SELECT status FROM tasks WHERE id = $1", [.text(failed)]) }.first
        #expect(try row?.string("status") == "failed")
    }

    @Test("the overview counts ready tasks, samples the depths, and counts failures by code; a dead letter is retried onto the queue")
    func overviewAndRetry() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser(name: "customer")
        let admin = try await adminKey(system)
        let failed = try await failedTask(system, userID: user.id, code: "provider_unavailable")
        _ = try await system.submit(key: key, #"{"prompt": "waits for a worker"}"#)

        var overview = try await system.request("GET", "/admin/queue", key: admin).json
        let deadline = ContinuousClock.now + .seconds(30)
        while (overview["history"] as? [Any])?.isEmpty != false, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            overview = try await system.request("GET", "/admin/queue", key: admin).json
        }
        #expect(overview["queue"] as? String == system.queue.name)
        #expect(overview["ready"] as? Int == 1)
        #expect(overview["in_flight"] as? Int == 0)
        #expect((overview["history"] as? [[String: Any]])?.isEmpty == false)
        let problems = try #require(overview["problems"] as? [[String: Any]])
        #expect(problems.contains { $0["status"] as? String == "failed" && $0["code"] as? String == "provider_unavailable" && $0["count"] as? Int == 1 })
        let unfinished = try #require(overview["unfinished"] as? [[String: Any]])
        #expect(unfinished.contains { $0["status"] as? String == "queued" && $0["count"] as? Int == 1 })
        let provider = try #require(overview["provider"] as? [String: Any])
        #expect(provider["breaker"] as? String == "closed")

        let deadLetters = try #require(try await system.request("GET", "/admin/tasks?status=failed", key: admin).json["tasks"] as? [[String: Any]])
        let listed = try #require(deadLetters.first { $0["task_id"] as? String == failed })
        #expect(listed["user"] as? String == "customer")
        #expect((listed["error"] as? [String: Any])?["code"] as? String == "provider_unavailable")

        let retried = try await system.request("POST", "/admin/tasks/\(failed)/retry", key: admin)
        #expect(retried.status == 200)
        #expect(retried.json["status"] as? String == "queued")
        #expect(try await system.queue.entry(taskID: try #require(UUID(uuidString: failed))) != nil)
        let again = try await system.request("POST", "/admin/tasks/\(failed)/retry", key: admin)
        #expect(again.status == 409)
        #expect(again.errorCode == "task_not_failed")
        #expect(try await system.request("POST", "/admin/tasks/\(UUID().uuidString)/retry", key: admin).status == 404)
    }

    @Test("an operator cancels another user's queued task; the owner sees it canceled")
    func cancelAnyone() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "customer")
        let admin = try await adminKey(system)
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "stuck"}"#).json["task_id"] as? String)
        // The API enqueues after its 202: cancel once the task is on the queue, so the cancel is what takes it off.
        #expect(try await eventually { try await system.queue.depth() == (1, 0, 0) })
        let canceled = try await system.request("POST", "/admin/tasks/\(taskID)/cancel", key: admin)
        #expect(canceled.status == 200)
        #expect(canceled.json["status"] as? String == "canceled")
        #expect(canceled.json["user"] as? String == "customer")
        #expect(try await system.queue.depth() == (0, 0, 0))
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/status", key: key).json["status"] as? String == "canceled")
        #expect(try await system.request("POST", "/admin/tasks/\(taskID)/cancel", key: admin).status == 200)
    }

    @Test("spend per day and per user agree with the task's charge; a bad range is a 400 naming the parameter")
    func spendPerDayAndUser() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "spender")
        let admin = try await adminKey(system)
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "paid"}"#).json["task_id"] as? String)
        let done = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(done.json["status"] as? String == "succeeded")
        let cost = try #require(done.json["cost_micro_usd"] as? Int)
        #expect(cost > 0)

        let daily = try await system.request("GET", "/me/usage/days?days=3", key: key).json
        let days = try #require(daily["days"] as? [[String: Any]])
        #expect(days.count == 3)
        #expect(days.last?["spent_micro_usd"] as? Int == cost)
        #expect(days.dropLast().allSatisfy { $0["spent_micro_usd"] as? Int == 0 })
        #expect(try await system.request("GET", "/me/usage/days?days=93", key: key).errorCode == "invalid_parameter")

        let report = try await system.request("GET", "/admin/cost-report", key: admin).json
        let users = try #require(report["users"] as? [[String: Any]])
        let spender = try #require(users.first { $0["name"] as? String == "spender" })
        #expect(spender["spend_micro_usd"] as? Int == cost)
        #expect(spender["tasks"] as? Int == 1)
        let backwards = try await system.request("GET", "/admin/cost-report?from=2026-02-02&to=2026-02-01", key: admin)
        #expect(backwards.status == 400)
        #expect((backwards.json["error"] as? [String: Any])?["field"] as? String == "from")
        #expect(try await system.request("GET", "/admin/cost-report?from=2026-02-30", key: admin).status == 400)
    }
}
