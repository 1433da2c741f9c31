/// Where the circuit breaker stands.
public enum BreakerState: String, Sendable, CaseIterable {
    /// Calls flow.
    case closed
    /// Calls wait for the cool-down to end.
    case open
    /// The cool-down is over; the next call is the probe, and the others wait for its verdict.
    case halfOpen = "half_open"

    /// The value of the `imagegen_provider_breaker_state` gauge.
    public var gaugeValue: Int {
        switch self {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
    }
}

/// One provider key as the gate sees it; the id is a fingerprint, never the key.
public struct ProviderKeyStatus: Sendable, Equatable {
    public let id: String
    /// Whole images left in the key's bucket, or nil when no rate limit is set.
    public let tokens: Int?
    /// How much longer the key is set aside, in milliseconds (0 when usable).
    public let asideMilliseconds: Int64
    /// `rate_limited`, `out_of_quota` or `key_rejected` while set aside.
    public let asideReason: String?
}

/// The gate's shared state at one instant.
public struct GateStatus: Sendable, Equatable {
    public let breaker: BreakerState
    /// How much longer an open breaker stays open, in milliseconds.
    public let openMilliseconds: Int64
    /// How often the breaker has opened since Redis was last emptied.
    public let timesOpened: Int
    /// Failures counted towards opening it.
    public let failures: Int
    public let keys: [ProviderKeyStatus]
}
