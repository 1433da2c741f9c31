import Foundation
import ImagegenCore
import ImagegenStore
import Testing

@Suite("POST /images/estimate: the price and the verdict, with nothing queued")
struct EstimateTests {
    @Test("dall-e-3 hd costs $0.08; within the limit it fits, over it the 402 a submission would get is named")
    func estimate() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser(name: "estimator")
        let body = #"{"prompt": "a lighthouse", "model": "dall-e-3", "quality": "hd"}"#
        let fits = try await system.request("POST", "/images/estimate", key: key, body: body)
        #expect(fits.status == 200)
        #expect(fits.json["cost_usd"] as? String == "0.080000")
        #expect(fits.json["cost_micro_usd"] as? Int == 80_000)
        #expect(fits.json["fits_limits"] as? Bool == true)
        #expect(fits.json["refused_by"] is NSNull)

        try await UserStore(database: system.database).setLimits(userID: user.id, UserLimits(dailySpend: MicroDollars(50_000)))
        let over = try await system.request("POST", "/images/estimate", key: key, body: body)
        #expect(over.json["fits_limits"] as? Bool == false)
        let refusal = try #require(over.json["refused_by"] as? [String: Any])
        #expect(refusal["status"] as? Int == 402)
        #expect(refusal["code"] as? String == "spend_limit_exceeded")
        let submitted = try await system.submit(key: key, body)
        #expect(submitted.status == 402)
        #expect(submitted.errorCode == refusal["code"] as? String)

        let tasks = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS n FROM tasks WHERE user_id = $1", [.text(user.id.uuidString)])
        }
        #expect(try tasks.first?.int("n") == 0)
        #expect(try await system.queue.depth().ready == 0)
    }

    @Test("an invalid request is refused exactly as a submission would be")
    func invalid() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let answer = try await system.request("POST", "/images/estimate", key: key, body: #"{"prompt": "p", "n": 4}"#)
        #expect(answer.status == 422)
        #expect((answer.json["error"] as? [String: Any])?["field"] as? String == "n")
        #expect(try await system.request("POST", "/images/estimate", key: nil, body: #"{"prompt": "p"}"#).status == 401)
    }
}
