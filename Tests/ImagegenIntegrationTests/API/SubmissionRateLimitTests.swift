import Foundation
import ImagegenAPI
import Testing

@Suite("Per-user submission rate limit, shared through Redis by every API process")
struct SubmissionRateLimitTests {
    @Test("a burst of 3 at 6/min: the 4th submission is a 429 with Retry-After, on either API; other users are not held back")
    func sharedLimit() async throws {
        // One slot per 10 s, so that a slow machine cannot refill the bucket between the burst and the refusals.
        let limit = SubmissionRateLimit(perMinute: 6, burst: 3)
        let first = try await RunningSystem.start(worker: nil, submissionRate: limit)
        defer { Task { await first.stop() } }
        let second = try await RunningSystem.start(worker: nil, submissionRate: limit)
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
            #expect((1...10).contains(retryAfter))
        }
        let (_, otherKey) = try await first.createUser(name: "patient")
        #expect(try await second.submit(key: otherKey, #"{"prompt": "p"}"#).status == 202)
        try await Task.sleep(for: .seconds(retryAfter) + .milliseconds(100))
        #expect(try await first.submit(key: key, #"{"prompt": "p"}"#).status == 202)
    }
}
