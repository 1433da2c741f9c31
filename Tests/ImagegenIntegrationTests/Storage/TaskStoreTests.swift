import Foundation
import ImagegenCore
import ImagegenStore
import PostgresClient
import Testing

@Suite("TaskStore fences every state change by attempt")
struct TaskStoreTests {
    private func makeTask(_ database: Database) async throws -> UUID {
        let (user, _) = try await UserStore(database: database).createUser(name: "fence", dailyLimit: nil, monthlyLimit: nil)
        let request = ImageRequest(prompt: "p", model: "dall-e-3", size: "1024x1024", quality: "standard", style: nil, n: 1, endUser: nil)
        return try await TaskStore(database: database).create(userID: user.id, request: request, unitPrice: MicroDollars(40_000), maxAttempts: 3)
    }

    @Test("a late completion from an older attempt stores nothing and charges nothing")
    func staleAttemptIsFenced() async throws {
        let database = try await TestEnvironment.database()
        let store = TaskStore(database: database)
        let taskID = try await makeTask(database)

        let first = try #require(try await store.beginAttempt(taskID: taskID))
        #expect(try await store.scheduleRetry(first, delayMilliseconds: 0, error: TaskError(code: "x", message: "x")))
        let second = try #require(try await store.beginAttempt(taskID: taskID))
        #expect(second.attempt == first.attempt + 1)

        let image = StoredImage(mediaType: "image/png", bytes: [1, 2, 3], revisedPrompt: nil)
        #expect(try await store.complete(first, images: [image], cost: MicroDollars(40_000)) == false)
        #expect(try await store.complete(second, images: [image], cost: MicroDollars(40_000)) == true)
        #expect(try await store.complete(second, images: [image], cost: MicroDollars(40_000)) == false)

        let counts = try await database.run { connection in
            try connection.query(
                """
                SELECT (SELECT count(*) FROM charges WHERE task_id = $1) AS charges,
                       (SELECT count(*) FROM task_images WHERE task_id = $1) AS images,
                       (SELECT attempt FROM charges WHERE task_id = $1) AS charged_attempt
                """,
                [.text(taskID.uuidString)]
            )
        }
        #expect(try counts.first?.int("charges") == 1)
        #expect(try counts.first?.int("images") == 1)
        #expect(try counts.first?.int("charged_attempt") == Int64(second.attempt))
    }

    @Test("a finished task cannot be started again")
    func finishedTaskDoesNotRestart() async throws {
        let database = try await TestEnvironment.database()
        let store = TaskStore(database: database)
        let taskID = try await makeTask(database)
        let attempt = try #require(try await store.beginAttempt(taskID: taskID))
        #expect(try await store.fail(attempt, error: TaskError(code: "content_policy_violation", message: "no")))
        #expect(try await store.beginAttempt(taskID: taskID) == nil)
    }
}
