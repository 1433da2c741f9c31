import Foundation

/// The calendar periods a limit applies to, at one instant.
public struct SpendPeriods: Sendable, Equatable {
    /// The start of the hour, ISO 8601, for the hourly image limit.
    public let hour: String
    /// The day, `YYYY-MM-DD`, in the policy's time zone.
    public let day: String
    /// The first day of the month, `YYYY-MM-01`.
    public let month: String
    public let hourResetsAt: Date
    public let dayResetsAt: Date
    public let monthResetsAt: Date
}

/// Default limits and the time zone whose calendar hours, days and months they count.
public struct SpendPolicy: Sendable {
    /// Apply to users without limits of their own.
    public var defaults: UserLimits
    public var timeZone: TimeZone

    public init(defaults: UserLimits = UserLimits(), timeZone: TimeZone = .gmt) {
        self.defaults = defaults
        self.timeZone = timeZone
    }

    public func periods(at instant: Date) -> SpendPeriods {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let hour = calendar.dateInterval(of: .hour, for: instant)!
        let day = calendar.startOfDay(for: instant)
        let month = calendar.date(from: calendar.dateComponents([.year, .month], from: instant))!
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        func pad(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return SpendPeriods(
            hour: hour.start.formatted(Date.ISO8601FormatStyle()),
            day: "\(parts.year!)-\(pad(parts.month))-\(pad(parts.day))",
            month: "\(parts.year!)-\(pad(parts.month))-01",
            hourResetsAt: hour.end,
            dayResetsAt: calendar.date(byAdding: .day, value: 1, to: day)!,
            monthResetsAt: calendar.date(byAdding: .month, value: 1, to: month)!
        )
    }
}
