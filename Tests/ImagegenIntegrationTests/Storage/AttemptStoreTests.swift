import Foundation
import ImagegenCore
import ImagegenStore
import PostgresClient
import Testing

@Suite("AttemptStore fences every state change by attempt")
struct AttemptStoreTests {
    private struct Fixture {
        let database: Database
        let attempts: AttemptStore
        let tasks: TaskStore
        let userID: UUID
        let taskID: UUID

        func row() async throws -> PostgresRow {
            let id = taskID
            return try await database.run { connection in
                try connection.query(
                    """
                    SELECT t.status, t.attempts, t.max_attempts, t.error_code,
                           (SELECT count(*) FROM charges WHERE task_id = t.id) AS charges,
                           (SELECT count(*) FROM task_images WHERE task_id = t.id) AS images,
                           (SELECT attempt FROM charges WHERE task_id = t.id) AS charged_attempt
                    FROM tasks t WHERE t.id = $1
                    """,
                    [.text(id.uuidString)]
                )
            }.first!
        }
    }

    private func fixture(maxAttempts: Int = 3) async throws -> Fixture {
        let database = try await TestEnvironment.database()
        let (user, _) = try await UserStore(database: database).createUser(name: "fence")
        let tasks = TaskStore(database: database)
        let taskID = try await tasks.createTask(userID: user.id, maxAttempts: maxAttempts)
        return Fixture(database: database, attempts: AttemptStore(database: database, takeoverAfter: .zero), tasks: tasks, userID: user.id, taskID: taskID)
    }

    private let image = StoredImage(mediaType: "image/png", bytes: [1, 2, 3], revisedPrompt: nil)
    private let error = TaskError(code: "provider_unavailable", message: "500")

    @Test("a late completion from an older attempt stores nothing and charges nothing")
    func staleAttemptIsFenced() async throws {
        let f = try await fixture()
        let first = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(try await f.attempts.scheduleRetry(first, delayMilliseconds: 0, error: error, providerMayHaveBilled: false) == .recorded)
        let second = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(second.attempt == first.attempt + 1)

        #expect(try await f.attempts.complete(first, images: [image], usage: nil) == .superseded)
        #expect(try await f.attempts.complete(second, images: [image], usage: nil) == .recorded)
        #expect(try await f.attempts.complete(second, images: [image], usage: nil) == .superseded)

        let row = try await f.row()
        #expect(try row.int("charges") == 1)
        #expect(try row.int("images") == 1)
        #expect(try row.int("charged_attempt") == Int64(second.attempt))
    }

    @Test("a task left running by a dead worker can be started again, and the dead worker's result is fenced off")
    func redeliveredRunningTask() async throws {
        let f = try await fixture()
        let crashed = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        let redelivered = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(redelivered.attempt == crashed.attempt + 1)
        #expect(try await f.attempts.complete(crashed, images: [image], usage: nil) == .superseded)
        #expect(try await f.attempts.complete(redelivered, images: [image], usage: nil) == .recorded)
        #expect(try await f.row().int("charged_attempt") == Int64(redelivered.attempt))
    }

    @Test("a running task whose heartbeat is younger than a lease is left to its worker; once it is older, it is taken over")
    func takeoverOnlyOfTheDead() async throws {
        let f = try await fixture()
        let guarded = AttemptStore(database: f.database, takeoverAfter: .seconds(60))
        let alive = try #require(try await guarded.beginAttempt(taskID: f.taskID))
        // The heartbeat is seconds old at most: the worker is alive, so no second attempt and no unsettled reservation.
        #expect(try await guarded.beginAttempt(taskID: f.taskID) == nil)
        #expect(try await f.row().string("status") == "running")
        #expect(try await f.row().int("attempts") == 1)
        #expect(try await f.attempts.complete(alive, images: [image], usage: nil) == .recorded)

        let other = try await f.tasks.createTask(userID: f.userID, maxAttempts: 3)
        let dead = try #require(try await guarded.beginAttempt(taskID: other))
        // The test moves the heartbeat back past the lease, as a worker that stopped beating would leave it.
        try await f.database.run { connection in
            try connection.query("UPDATE tasks SET heartbeat_at = now() - interval '61 seconds' WHERE id = $1", [.text(other.uuidString)])
        }
        let takeover = try #require(try await guarded.beginAttempt(taskID: other))
        #expect(takeover.attempt == dead.attempt + 1)
    }

    @Test("a task past its deadline does not start: it fails as expired, with nothing reserved or charged")
    func overdueTaskExpires() async throws {
        let f = try await fixture()
        try await f.database.run { connection in
            try connection.query("UPDATE tasks SET deadline_at = now() - interval '1 second' WHERE id = $1", [.text(f.taskID.uuidString)])
        }
        #expect(try await f.attempts.beginAttempt(taskID: f.taskID) == nil)
        let row = try await f.row()
        #expect(try row.string("status") == "failed")
        #expect(try row.optionalString("error_code") == "expired")
        #expect(try row.int("attempts") == 0)
        #expect(try row.int("charges") == 0)
    }

    @Test("a task whose last attempt's worker died fails as worker_lost instead of running forever")
    func lastAttemptLost() async throws {
        let f = try await fixture(maxAttempts: 1)
        _ = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(try await f.attempts.beginAttempt(taskID: f.taskID) == nil)
        let row = try await f.row()
        #expect(try row.string("status") == "failed")
        #expect(try row.string("error_code") == "worker_lost")
    }

    @Test("a finished task cannot be started again")
    func finishedTaskDoesNotRestart() async throws {
        let f = try await fixture()
        let attempt = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(try await f.attempts.fail(attempt, error: TaskError(code: "content_policy_violation", message: "no"), providerMayHaveBilled: false) == .recorded)
        #expect(try await f.attempts.beginAttempt(taskID: f.taskID) == nil)
    }

    @Test("a hand-back before the provider was called releases the reservation; after a cut-off call it stays unsettled")
    func handBackReservation() async throws {
        let f = try await fixture()
        func state(_ attempt: Int) async throws -> String? {
            try await f.database.run { connection in
                try connection.query(
                    "SELECT state FROM reservations WHERE task_id = $1 AND attempt = $2", [.text(f.taskID.uuidString), .int(attempt)]
                )
            }.first?.string("state")
        }
        let unstarted = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(try await f.attempts.handBack(unstarted, providerMayHaveBilled: false) == .recorded)
        #expect(try await state(unstarted.attempt) == "released")
        let cutOff = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(try await f.attempts.handBack(cutOff, providerMayHaveBilled: true) == .recorded)
        #expect(try await state(cutOff.attempt) == "unsettled")
    }

    @Test("handing an attempt back returns the task to queued without using up an attempt")
    func handBackRestoresAttempt() async throws {
        let f = try await fixture(maxAttempts: 1)
        let attempt = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(try await f.attempts.handBack(attempt, providerMayHaveBilled: true) == .recorded)
        let row = try await f.row()
        #expect(try row.string("status") == "queued")
        #expect(try row.int("max_attempts") == 2)
        #expect(try await f.attempts.handBack(attempt, providerMayHaveBilled: true) == .superseded)
        let next = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(next.attempt == 2)
    }

    @Test("canceling a waiting task ends it at once; a canceled task never starts")
    func cancelWaitingTask() async throws {
        let f = try await fixture()
        #expect(try await f.tasks.cancel(taskID: f.taskID, userID: f.userID) == .canceled)
        #expect(try await f.row().string("status") == "canceled")
        #expect(try await f.attempts.beginAttempt(taskID: f.taskID) == nil)
        #expect(try await f.tasks.cancel(taskID: f.taskID, userID: UUID()) == nil)
    }

    @Test("canceling a running task takes effect when its attempt ends, and a retry is not scheduled")
    func cancelRunningTaskBeforeRetry() async throws {
        let f = try await fixture()
        let attempt = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        #expect(try await f.tasks.cancel(taskID: f.taskID, userID: f.userID) == .requested)
        #expect(try await f.row().string("status") == "running")
        #expect(try await f.attempts.scheduleRetry(attempt, delayMilliseconds: 10, error: error, providerMayHaveBilled: false) == .canceled)
        let row = try await f.row()
        #expect(try row.string("status") == "canceled")
        #expect(try row.int("charges") == 0)
    }

    @Test("a task canceled after the provider answered keeps the provider's charge but not the images")
    func cancelRunningTaskAfterProvider() async throws {
        let f = try await fixture()
        let attempt = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        _ = try await f.tasks.cancel(taskID: f.taskID, userID: f.userID)
        #expect(try await f.attempts.complete(attempt, images: [image], usage: nil) == .canceled)
        let row = try await f.row()
        #expect(try row.string("status") == "canceled")
        #expect(try row.int("images") == 0)
        #expect(try row.int("charges") == 1)
        #expect(try await f.tasks.cancel(taskID: f.taskID, userID: f.userID) == .canceled)
    }

    @Test("a succeeded task cannot be canceled")
    func cancelFinishedTask() async throws {
        let f = try await fixture()
        let attempt = try #require(try await f.attempts.beginAttempt(taskID: f.taskID))
        _ = try await f.attempts.complete(attempt, images: [image], usage: nil)
        #expect(try await f.tasks.cancel(taskID: f.taskID, userID: f.userID) == .alreadyFinished(.succeeded))
    }
}
