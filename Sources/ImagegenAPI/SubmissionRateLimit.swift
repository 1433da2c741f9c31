/// How many submissions one user may make: `perMinute` on average, `burst` at once.
public struct SubmissionRateLimit: Sendable, Equatable {
    /// 0 turns the limit off.
    public var perMinute: Int
    public var burst: Int

    public init(perMinute: Int, burst: Int) {
        self.perMinute = perMinute
        self.burst = burst
    }

    public static let off = SubmissionRateLimit(perMinute: 0, burst: 1)
}
