import Foundation
import ImagegenCore
import ImagegenStore
import Testing

@Suite("Limits at the API: 402 before queuing a task that cannot fit, and GET /me/usage")
struct SpendAPITests {
    @Test("once reservations fill the daily limit, a submission is refused with 402 and the limit's figures")
    func submitOverLimit() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        try await UserStore(database: system.database).setLimits(userID: user.id, UserLimits(dailySpend: MicroDollars(50_000)))
        let first = try #require(try await system.submit(key: key, #"{"prompt": "fits"}"#).json["task_id"] as? String)
        _ = try #require(try await AttemptStore(database: system.database, takeoverAfter: .zero).beginAttempt(taskID: UUID(uuidString: first)!))

        let refused = try await system.submit(key: key, #"{"prompt": "does not fit"}"#)
        #expect(refused.status == 402)
        let error = try #require(refused.json["error"] as? [String: Any])
        #expect(error["code"] as? String == "spend_limit_exceeded")
        #expect(error["limit_usd"] as? String == "0.050000")
        #expect(error["spent_usd"] as? String == "0.000000")
        #expect(error["reserved_usd"] as? String == "0.040000")
        #expect((error["resets_at"] as? String)?.hasSuffix("T00:00:00Z") == true)
        let count = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS n FROM tasks WHERE user_id = $1", [.text(user.id.uuidString)])
        }.first!.int("n")
        #expect(count == 1)
    }

    @Test("a user without limits is not checked, yet limits set since refuse the next submission, and a default limit is checked")
    func uncheckedUntilLimited() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        let first = try #require(try await system.submit(key: key, #"{"prompt": "no limits yet"}"#).json["task_id"] as? String)
        _ = try #require(try await AttemptStore(database: system.database, takeoverAfter: .zero).beginAttempt(taskID: UUID(uuidString: first)!))
        try await UserStore(database: system.database).setLimits(userID: user.id, UserLimits(dailySpend: MicroDollars(50_000)))
        let refused = try await system.submit(key: key, #"{"prompt": "now limited"}"#)
        #expect(refused.status == 402)
        #expect(refused.errorCode == "spend_limit_exceeded")

        let defaulted = try await RunningSystem.start(worker: nil, spend: SpendPolicy(defaults: UserLimits(dailySpend: MicroDollars(50_000))))
        defer { Task { await defaulted.stop() } }
        let (_, otherKey) = try await defaulted.createUser()
        let second = try #require(try await defaulted.submit(key: otherKey, #"{"prompt": "fits the default"}"#).json["task_id"] as? String)
        _ = try #require(try await AttemptStore(database: defaulted.database, takeoverAfter: .zero).beginAttempt(taskID: UUID(uuidString: second)!))
        let overDefault = try await defaulted.submit(key: otherKey, #"{"prompt": "passes the default"}"#)
        #expect(overDefault.status == 402)
        #expect(overDefault.errorCode == "spend_limit_exceeded")
    }

    @Test("GET /me/usage shows limits, spend, reservations and reset times; defaults apply without own limits")
    func usage() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        try await UserStore(database: system.database).setLimits(userID: user.id, UserLimits(dailySpend: MicroDollars(1_000_000)))
        let taskID = try #require(try await system.submit(key: key, #"{"prompt": "count me"}"#).json["task_id"] as? String)
        _ = try #require(try await AttemptStore(database: system.database, takeoverAfter: .zero).beginAttempt(taskID: UUID(uuidString: taskID)!))

        let result = try await system.request("GET", "/me/usage", key: key)
        #expect(result.status == 200)
        #expect(result.json["time_zone"] as? String == "GMT")
        let day = try #require(result.json["day"] as? [String: Any])
        #expect(day["limit_usd"] as? String == "1.000000")
        #expect(day["reserved_usd"] as? String == "0.040000")
        #expect(day["remaining_usd"] as? String == "0.960000")
        let month = try #require(result.json["month"] as? [String: Any])
        #expect(month["limit_usd"] is NSNull)
        #expect((month["starts_on"] as? String)?.hasSuffix("-01") == true)
        let images = try #require(result.json["images"] as? [String: Any])
        let hour = try #require(images["hour"] as? [String: Any])
        #expect(hour["used"] as? Int == 1)
        #expect(hour["limit"] is NSNull)
        #expect((hour["resets_at"] as? String)?.hasSuffix(":00:00Z") == true)
        #expect(try await system.request("GET", "/me/usage", key: nil).status == 401)
    }

    @Test("an image limit refuses a submission with 429, Retry-After until the hour ends, and the count's figures")
    func submitOverImageLimit() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser()
        try await UserStore(database: system.database).setLimits(userID: user.id, UserLimits(hourlyImages: 3))
        let first = try #require(try await system.submit(key: key, #"{"prompt": "two", "model": "dall-e-2", "n": 2}"#).json["task_id"] as? String)
        _ = try #require(try await AttemptStore(database: system.database, takeoverAfter: .zero).beginAttempt(taskID: UUID(uuidString: first)!))

        let refused = try await system.submit(key: key, #"{"prompt": "two more", "model": "dall-e-2", "n": 2}"#)
        #expect(refused.status == 429)
        let error = try #require(refused.json["error"] as? [String: Any])
        #expect(error["code"] as? String == "image_limit_exceeded")
        #expect(error["limit_images"] as? String == "3")
        #expect(error["used_images"] as? String == "2")
        #expect(error["requested_images"] as? String == "2")
        let retryAfter = try #require(refused.headers["retry-after"].flatMap { Int($0) })
        #expect((1...3600).contains(retryAfter))
        #expect(try await system.submit(key: key, #"{"prompt": "one more", "model": "dall-e-2"}"#).status == 202)
    }
}
