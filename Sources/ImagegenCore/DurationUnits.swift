extension Duration {
    /// Whole milliseconds, rounded towards zero: the unit Redis scripts and PostgreSQL intervals take.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Milliseconds with their fraction, for latencies and rates.
    public var fractionalMilliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// Whole nanoseconds, rounded towards zero: the unit metrics timers record.
    public var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
