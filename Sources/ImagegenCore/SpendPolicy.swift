import Foundation

/// The calendar periods a spend limit applies to, at one instant.
public struct SpendPeriods: Sendable, Equatable {
    /// The day, `YYYY-MM-DD`, in the policy's time zone.
    public let day: String
    /// The first day of the month, `YYYY-MM-01`.
    public let month: String
    public let dayResetsAt: Date
    public let monthResetsAt: Date
}

/// Default limits and the time zone whose calendar days and months they count.
public struct SpendPolicy: Sendable {
    /// Applies to users without a limit of their own; nil means no limit.
    public var defaultDailyLimit: MicroDollars?
    public var defaultMonthlyLimit: MicroDollars?
    public var timeZone: TimeZone

    public init(defaultDailyLimit: MicroDollars? = nil, defaultMonthlyLimit: MicroDollars? = nil, timeZone: TimeZone = .gmt) {
        self.defaultDailyLimit = defaultDailyLimit
        self.defaultMonthlyLimit = defaultMonthlyLimit
        self.timeZone = timeZone
    }

    public func periods(at instant: Date) -> SpendPeriods {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let day = calendar.startOfDay(for: instant)
        let month = calendar.date(from: calendar.dateComponents([.year, .month], from: instant))!
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        func pad(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return SpendPeriods(
            day: "\(parts.year!)-\(pad(parts.month))-\(pad(parts.day))",
            month: "\(parts.year!)-\(pad(parts.month))-01",
            dayResetsAt: calendar.date(byAdding: .day, value: 1, to: day)!,
            monthResetsAt: calendar.date(byAdding: .month, value: 1, to: month)!
        )
    }
}
