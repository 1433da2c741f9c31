import ImagegenCore
import Testing

@Suite("Exponential backoff with full jitter")
struct BackoffPolicyTests {
    let policy = BackoffPolicy(baseMilliseconds: 2_000, factor: 2, capMilliseconds: 300_000, maxAttempts: 5)

    @Test("the ceiling doubles from the base and stops at the cap")
    func ceilings() {
        #expect((1...10).map { policy.ceiling(afterAttempt: $0) } == [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000])
        #expect(policy.ceiling(afterAttempt: 500) == 300_000)
    }

    @Test("delays spread over [0, ceiling]")
    func jitterSpreads() {
        let delays = (0..<2_000).map { _ in policy.delay(afterAttempt: 3) }
        #expect(delays.allSatisfy { (0...8_000).contains($0) })
        #expect(delays.min()! < 1_000)
        #expect(delays.max()! > 7_000)
    }

    @Test("Retry-After is a floor")
    func retryAfterIsHonoured() {
        #expect((0..<200).allSatisfy { _ in policy.delay(afterAttempt: 1, retryAfterMilliseconds: 30_000) >= 30_000 })
    }
}
