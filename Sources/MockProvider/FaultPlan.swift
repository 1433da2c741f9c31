/// Which faults the mock provider injects, and how often.
///
/// Rates are shares of all requests (0.0 to 1.0). A prompt can also ask for one
/// fault explicitly with a directive such as `[mock:500]`, or `[mock:500x2]` to
/// fail only its first two calls, which keeps tests deterministic.
public struct FaultPlan: Sendable, Equatable {
    public enum Fault: String, Sendable, CaseIterable {
        case rateLimited = "429"
        /// Hostile answers a proxy or a broken provider can send: `Retry-After: inf` and
        /// `1e19`, a 50 MB body streamed without a length, `n` + 10 images, negative tokens.
        case retryAfterInfinite = "429_inf"
        case retryAfterHuge = "429_huge"
        case hugeBody = "huge_body"
        case extraImages = "extra_images"
        /// One image fewer than asked (at least one), as OpenAI answers when its safety system
        /// drops some of an `n` > 1 request's images without saying so.
        case fewerImages = "fewer_images"
        case negativeTokens = "negative_tokens"
        case serverError = "500"
        case overloaded = "503"
        case malformed
        case badBase64 = "bad_base64"
        case contentPolicy = "content_policy"
        /// gpt-image's safety refusal: 400 `moderation_blocked`.
        case moderationBlocked = "moderation_blocked"
        /// An account over its hard billing limit: 400 `billing_hard_limit_reached`.
        case billingHardLimit = "billing_hard_limit"
        case hang
        /// Answers normally once a test releases held calls (`POST /_mock/release`), so that a
        /// test decides how long a call is in flight; gives up after `hangSeconds`.
        case hold
        case quota
        /// A Replicate prediction that is not done when `Prefer: wait` gives up: it answers
        /// `starting`, and moves on one state at each `POST /_mock/release` a test makes
        /// afterwards (`processing`, then `succeeded`), so a test sees every state.
        case queued
    }

    public var latencyMilliseconds: Int = 0
    public var latencyJitterMilliseconds: Int = 0
    public var retryAfterSeconds: Int = 1
    public var hangSeconds: Int = 600
    public var rates: [Fault: Double] = [:]
    public var seed: UInt64 = 42
    /// Images per minute each key may ask for, as OpenAI's per-key limit; 0 for none.
    /// Refills continuously, holding at most `burstImagesPerKey`; over it, 429 with `Retry-After`.
    public var imagesPerMinutePerKey = 0
    /// Bucket size; 0 means a sixth of the per-minute figure (at least 1).
    public var burstImagesPerKey = 0
    /// These calls of each key (1-based, counted per key) answer 429 `rate_limit_exceeded`
    /// with `Retry-After: retryAfterSeconds`: a provider limit met on a count, not on a clock.
    public var rateLimitedCallsPerKey: Set<Int> = []
    /// Every request within this long of the first one answers 503: an outage that ends.
    public var outageMilliseconds = 0
    /// Every request answers 503 until a test posts `/_mock/release`: an outage the test ends.
    public var outageUntilReleased = false
    /// Keys whose account is out of credit: every call answers 429 `insufficient_quota`.
    public var exhaustedKeys: Set<String> = []
    /// Keys the provider does not know: every call answers 401 `invalid_api_key`.
    public var rejectedKeys: Set<String> = []

    public init() {}

    /// The fault a prompt's directive asks for on its `call`-th call (1-based), if any.
    static func directive(in prompt: String, call: Int) -> Fault? {
        guard let start = prompt.range(of: "[mock:"), let end = prompt[start.upperBound...].firstIndex(of: "]") else {
            return nil
        }
        let body = prompt[start.upperBound..<end]
        var name = Substring(body)
        var times = Int.max
        if let marker = body.lastIndex(of: "x"), let count = Int(body[body.index(after: marker)...]) {
            name = body[..<marker]
            times = count
        }
        guard call <= times else { return nil }
        return Fault(rawValue: String(name))
    }
}

extension FaultPlan.Fault {
    /// Whether a real provider bills the call: it answered 200 with images, however broken
    /// the answer is on the way (cut short, undecodable, hostile). Refusals and errors are free.
    public var isBilled: Bool {
        switch self {
        case .hold, .queued, .extraImages, .fewerImages, .negativeTokens, .hugeBody, .badBase64, .malformed: true
        default: false
        }
    }
}
