import Foundation
import ImagegenCore
import PostgresClient

/// One user's spend in one period against one limit.
public struct PeriodUsage: Sendable, Equatable {
    /// The first day of the period, `YYYY-MM-DD`.
    public let startsOn: String
    /// nil means no limit.
    public let limit: MicroDollars?
    /// Charged for images received.
    public let spent: MicroDollars
    /// Reserved by running attempts, plus unsettled reservations whose outcome is unknown.
    public let reserved: MicroDollars
    public let resetsAt: Date

    /// Whether `amount` more still fits under the limit.
    public func admits(_ amount: MicroDollars) -> Bool {
        limit.map { spent + reserved + amount <= $0 } ?? true
    }
}

/// One user's image count in one period against one limit.
public struct ImageUsage: Sendable, Equatable {
    /// nil means no limit.
    public let limit: Int?
    /// Images generated, plus those reserved by running or unsettled attempts.
    public let used: Int
    public let resetsAt: Date

    public func admits(_ images: Int) -> Bool {
        limit.map { used + images <= $0 } ?? true
    }
}

/// A user's spend today and this month, and images this hour and today.
public struct SpendUsage: Sendable, Equatable {
    public let day: PeriodUsage
    public let month: PeriodUsage
    public let hourImages: ImageUsage
    public let dayImages: ImageUsage

    /// The first limit that a task costing `cost` for `images` images would pass now, if any.
    public func refusingLimit(cost: MicroDollars, images: Int) -> LimitKind? {
        if !day.admits(cost) { return .dailySpend }
        if !month.admits(cost) { return .monthlySpend }
        if !hourImages.admits(images) { return .hourlyImages }
        if !dayImages.admits(images) { return .dailyImages }
        return nil
    }
}

/// Reads spend against limits, for the API's check at submit time and `GET /me/usage`.
/// The worker's reservation (in `AttemptStore`) stays the authority.
public struct SpendStore: Sendable {
    let database: Database
    public let policy: SpendPolicy
    let now: @Sendable () -> Date

    public init(database: Database, policy: SpendPolicy, now: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.policy = policy
        self.now = now
    }

    public func usage(userID: UUID) async throws -> SpendUsage {
        try await database.run { connection in try usage(userID: userID, on: connection) }
    }

    /// The user's usage read on `connection`, so that a caller may check it and act on it in one call.
    public func usage(userID: UUID, on connection: PostgresConnection) throws -> SpendUsage {
        let periods = policy.periods(at: now())
        let row = try connection.query(
                """
                SELECT \(UserLimits.columns),
                       coalesce(d.committed_micro_usd, 0) AS day_committed, coalesce(d.settled_micro_usd, 0) AS day_settled,
                       coalesce(m.committed_micro_usd, 0) AS month_committed, coalesce(m.settled_micro_usd, 0) AS month_settled,
                       coalesce(d.committed_images, 0) AS day_images, coalesce(h.committed_images, 0) AS hour_images
                FROM users u
                LEFT JOIN spend_periods d ON d.user_id = u.id AND d.period = 'day' AND d.starts_on = $2
                LEFT JOIN spend_periods m ON m.user_id = u.id AND m.period = 'month' AND m.starts_on = $3
                LEFT JOIN image_hours h ON h.user_id = u.id AND h.starts_at = $4
                WHERE u.id = $1
                """,
                [.text(userID.uuidString), .text(periods.day), .text(periods.month), .text(periods.hour)]
            ).first
        let limits = try row.map { try UserLimits($0) }?.or(policy.defaults) ?? policy.defaults
        func usage(_ prefix: String, limit: MicroDollars?, startsOn: String, resetsAt: Date) throws -> PeriodUsage {
            let committed = try row?.int("\(prefix)_committed") ?? 0
            let settled = try row?.int("\(prefix)_settled") ?? 0
            return PeriodUsage(
                startsOn: startsOn, limit: limit, spent: MicroDollars(settled), reserved: MicroDollars(committed - settled),
                resetsAt: resetsAt
            )
        }
        return SpendUsage(
            day: try usage("day", limit: limits.dailySpend, startsOn: periods.day, resetsAt: periods.dayResetsAt),
            month: try usage("month", limit: limits.monthlySpend, startsOn: periods.month, resetsAt: periods.monthResetsAt),
            hourImages: ImageUsage(
                limit: limits.hourlyImages, used: Int(try row?.int("hour_images") ?? 0), resetsAt: periods.hourResetsAt
            ),
            dayImages: ImageUsage(limit: limits.dailyImages, used: Int(try row?.int("day_images") ?? 0), resetsAt: periods.dayResetsAt)
        )
    }

    /// The user's spend per day for the `days` days ending today (in the policy's time zone),
    /// oldest first; a day without spend is listed with zero.
    public func dailySpend(userID: UUID, days: Int) async throws -> [DaySpend] {
        let today = policy.periods(at: now()).day
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT to_char(d, 'YYYY-MM-DD') AS day, coalesce(sp.settled_micro_usd, 0) AS settled,
                       coalesce(sp.committed_micro_usd - sp.settled_micro_usd, 0) AS reserved
                FROM generate_series($2::date - ($3::int - 1), $2::date, interval '1 day') AS d
                LEFT JOIN spend_periods sp ON sp.user_id = $1 AND sp.period = 'day' AND sp.starts_on = d::date
                ORDER BY d
                """,
                [.text(userID.uuidString), .text(today), .int(days)]
            )
        }
        return try rows.map { row in
            DaySpend(day: try row.string("day"), spent: MicroDollars(try row.int("settled")), reserved: MicroDollars(try row.int("reserved")))
        }
    }
}

/// What one user spent and still has reserved on one day.
public struct DaySpend: Sendable, Equatable {
    /// `YYYY-MM-DD` in the spend policy's time zone.
    public let day: String
    public let spent: MicroDollars
    public let reserved: MicroDollars
}
