import ImagegenCore

/// How the workers that share one provider endpoint pace and protect their calls.
public struct GateSettings: Sendable, Equatable {
    /// Images per minute each provider key may be asked for; 0 means no limit of our own
    /// (the provider's 429s still pause the key).
    public var imagesPerMinute: Int
    /// How many images a key's bucket holds when full: the largest burst after a quiet spell.
    public var burstImages: Int
    /// How long a key that answered `insufficient_quota` is set aside.
    public var keyCooldown: Duration
    /// How long a key that answered 429 without `Retry-After` is paused.
    public var defaultRetryAfter: Duration
    /// This many provider failures within `breakerWindow`, with no success seen between
    /// them, open the breaker.
    public var breakerFailures: Int
    public var breakerWindow: Duration
    /// How long an open breaker keeps every call away before one probe call may go.
    public var breakerCooldown: Duration
    /// How long the probe may take before another worker may probe instead.
    public var probeTimeout: Duration

    public init(
        imagesPerMinute: Int = 0, burstImages: Int? = nil, keyCooldown: Duration = .seconds(300),
        defaultRetryAfter: Duration = .seconds(1), breakerFailures: Int = 5, breakerWindow: Duration = .seconds(30),
        breakerCooldown: Duration = .seconds(30), probeTimeout: Duration = .seconds(120)
    ) {
        self.imagesPerMinute = imagesPerMinute
        self.burstImages = burstImages ?? max(1, imagesPerMinute / 6)
        self.keyCooldown = keyCooldown
        self.defaultRetryAfter = defaultRetryAfter
        self.breakerFailures = breakerFailures
        self.breakerWindow = breakerWindow
        self.breakerCooldown = breakerCooldown
        self.probeTimeout = probeTimeout
    }

    /// The same settings for a provider whose keys may take `imagesPerMinute`, with the burst that rate gets by default.
    public func limiting(to imagesPerMinute: Int) -> GateSettings {
        GateSettings(
            imagesPerMinute: imagesPerMinute, keyCooldown: keyCooldown, defaultRetryAfter: defaultRetryAfter, breakerFailures: breakerFailures,
            breakerWindow: breakerWindow, breakerCooldown: breakerCooldown, probeTimeout: probeTimeout
        )
    }
}
