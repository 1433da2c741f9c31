/// The limits on what one user may spend and generate. A nil field is no limit of the
/// user's own: the configured default applies, and a nil default means no limit.
public struct UserLimits: Sendable, Equatable {
    public var dailySpend: MicroDollars?
    public var monthlySpend: MicroDollars?
    public var hourlyImages: Int?
    public var dailyImages: Int?

    public init(dailySpend: MicroDollars? = nil, monthlySpend: MicroDollars? = nil, hourlyImages: Int? = nil, dailyImages: Int? = nil) {
        self.dailySpend = dailySpend
        self.monthlySpend = monthlySpend
        self.hourlyImages = hourlyImages
        self.dailyImages = dailyImages
    }

    /// These limits with each unset one taken from `defaults`.
    public func or(_ defaults: UserLimits) -> UserLimits {
        UserLimits(
            dailySpend: dailySpend ?? defaults.dailySpend, monthlySpend: monthlySpend ?? defaults.monthlySpend,
            hourlyImages: hourlyImages ?? defaults.hourlyImages, dailyImages: dailyImages ?? defaults.dailyImages
        )
    }

    /// These limits with each one given in `changes` replaced.
    public func updated(by changes: UserLimits) -> UserLimits {
        changes.or(self)
    }
}
