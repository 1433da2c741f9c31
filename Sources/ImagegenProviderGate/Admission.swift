/// Leave to make one provider call, with the key to make it with.
public struct Admission: Sendable, Equatable {
    /// The id of the provider key to call with.
    public let keyID: String
    /// This call decides whether a half-open breaker closes again.
    public let isProbe: Bool
    /// Whether failures were counted when the call was admitted, so that a success must reset them.
    let failuresPending: Bool
    /// How long the call waited for the rate limit, a set-aside key or the breaker.
    public let waited: Duration
}

/// The gate's answer to one look: go now, or wait this long for this reason.
public enum GateDecision: Sendable, Equatable {
    case admitted(Admission)
    /// `reason` is `rate_limited`, `breaker_open`, `breaker_probe` or why a key was set aside.
    case wait(Duration, reason: String)
}

/// How an admitted call went, as far as the gate cares.
public enum CallOutcome: Sendable, Equatable {
    /// The provider answered, with images or with a final error about the request.
    case answered
    /// The provider failed: 5xx, timeout, no connection, an unreadable body. Counts towards the breaker.
    case failed
    /// 429 rate limit: the key pauses for `retryAfter` (or the default), for every worker.
    case rateLimited(retryAfter: Duration?)
    /// The key's account is out of credit: it is set aside for the key cool-down.
    case outOfQuota
    /// The provider refused the key itself (401, 403): it is set aside for the key cool-down,
    /// so that the pool's other keys carry the calls.
    case keyRejected
    /// The call was cut off (the worker stopped); it says nothing about the provider.
    case abandoned
}
