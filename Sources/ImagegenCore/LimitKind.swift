import Foundation

/// One of the limits a user's tasks count against.
public enum LimitKind: String, Sendable, CaseIterable {
    case dailySpend = "daily_spend"
    case monthlySpend = "monthly_spend"
    case hourlyImages = "hourly_images"
    case dailyImages = "daily_images"

    /// The error code of a task or request refused by this limit.
    public var errorCode: String {
        isSpend ? "spend_limit_exceeded" : "image_limit_exceeded"
    }

    public var isSpend: Bool { self == .dailySpend || self == .monthlySpend }

    /// "daily spend limit", "hourly image limit", …
    public var name: String {
        switch self {
        case .dailySpend: "daily spend limit"
        case .monthlySpend: "monthly spend limit"
        case .hourlyImages: "hourly image limit"
        case .dailyImages: "daily image limit"
        }
    }

    /// When the period this limit counts ends.
    public func resetsAt(_ periods: SpendPeriods) -> Date {
        switch self {
        case .hourlyImages: periods.hourResetsAt
        case .dailySpend, .dailyImages: periods.dayResetsAt
        case .monthlySpend: periods.monthResetsAt
        }
    }

    /// Why a task of `images` images costing `cost` does not fit, when `committed` (micro-dollars
    /// or images) is already spent or reserved under a cap of `cap`.
    public func refusal(cost: MicroDollars, images: Int, cap: Int64, committed: Int64, periods: SpendPeriods) -> String {
        let resets = resetsAt(periods).formatted(Date.ISO8601FormatStyle())
        if isSpend {
            return "this task (\(cost)) would pass the \(name) of \(MicroDollars(cap)) (\(MicroDollars(committed)) already spent or "
                + "reserved); it resets at \(resets)"
        }
        return "this task's \(images) image(s) would pass the \(name) of \(cap) (\(committed) already generated or reserved); "
            + "it resets at \(resets)"
    }
}
