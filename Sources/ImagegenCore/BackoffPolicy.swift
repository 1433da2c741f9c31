/// How long a retryable failure waits: exponential backoff with full jitter.
public struct BackoffPolicy: Sendable, Equatable, Codable {
    public var baseMilliseconds: Int64
    public var factor: Int64
    public var capMilliseconds: Int64
    public var maxAttempts: Int

    public init(baseMilliseconds: Int64 = 2_000, factor: Int64 = 2, capMilliseconds: Int64 = 300_000, maxAttempts: Int = 5) {
        self.baseMilliseconds = baseMilliseconds
        self.factor = factor
        self.capMilliseconds = capMilliseconds
        self.maxAttempts = maxAttempts
    }

    /// The longest wait after `attempt` (1-based) failed: min(cap, base × factor^(attempt-1)).
    public func ceiling(afterAttempt attempt: Int) -> Int64 {
        var ceiling = baseMilliseconds
        for _ in 1..<max(attempt, 1) {
            if ceiling >= capMilliseconds / max(factor, 1) { return capMilliseconds }
            ceiling *= factor
        }
        return min(ceiling, capMilliseconds)
    }

    /// A random wait in [0, ceiling], or at least what the provider's Retry-After asked for.
    public func delay(afterAttempt attempt: Int, retryAfterMilliseconds: Int64? = nil) -> Int64 {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, retryAfterMilliseconds: retryAfterMilliseconds, using: &generator)
    }

    public func delay(
        afterAttempt attempt: Int, retryAfterMilliseconds: Int64?, using generator: inout some RandomNumberGenerator
    ) -> Int64 {
        let jittered = Int64.random(in: 0...ceiling(afterAttempt: attempt), using: &generator)
        return max(jittered, retryAfterMilliseconds ?? 0)
    }
}
