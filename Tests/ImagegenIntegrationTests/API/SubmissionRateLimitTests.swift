import Foundation
import ImagegenAPI
import RedisClient
import Testing

@Suite("Per-user submission rate limit, shared through Redis by every API process")
struct SubmissionRateLimitTests {
    @Test("a burst of 3 at 6/min: the 4th submission is a 429 with Retry-After, on either API; other users are not held back")
    func sharedLimit() async throws {
        // Both APIs read the time from the test's clock, which stands still until the test moves it:
        // no slot can refill between the burst and the refusals, however slow the machine.
        let limit = SubmissionRateLimit(perMinute: 6, burst: 3)
        let clock = RedisClock.manual()
        let first = try await RunningSystem.start(worker: nil, submissionRate: limit, redisClock: clock)
        defer { Task { await first.stop() } }
        let second = try await RunningSystem.start(worker: nil, submissionRate: limit, redisClock: clock)
        defer { Task { await second.stop() } }
        let (_, key) = try await first.createUser(name: "eager")
        for system in [first, second, first] {
            #expect(try await system.submit(key: key, #"{"prompt": "p"}"#).status == 202)
        }
        var retryAfter = 0
        for system in [second, first] {
            let refused = try await system.submit(key: key, #"{"prompt": "p"}"#)
            #expect(refused.status == 429)
            #expect(refused.errorCode == "rate_limited")
            retryAfter = try #require(refused.headers["retry-after"].flatMap(Int.init))
            // One slot every 10 s, and the clock has not moved since the bucket was full.
            #expect(retryAfter == 10)
        }
        let (_, otherKey) = try await first.createUser(name: "patient")
        #expect(try await second.submit(key: otherKey, #"{"prompt": "p"}"#).status == 202)
        clock.advance(by: .seconds(retryAfter) - .milliseconds(1))
        #expect(try await second.submit(key: key, #"{"prompt": "p"}"#).status == 429)
        clock.advance(by: .milliseconds(1))
        #expect(try await first.submit(key: key, #"{"prompt": "p"}"#).status == 202)
        #expect(try await second.submit(key: key, #"{"prompt": "p"}"#).status == 429)
    }
}
