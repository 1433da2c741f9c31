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

/// A user's spend today and this month.
public struct SpendUsage: Sendable, Equatable {
    public let day: PeriodUsage
    public let month: PeriodUsage
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
        let periods = policy.periods(at: now())
        let row = try await database.run { connection in
            try connection.query(
                """
                SELECT u.daily_limit_micro_usd, u.monthly_limit_micro_usd,
                       coalesce(d.committed_micro_usd, 0) AS day_committed, coalesce(d.settled_micro_usd, 0) AS day_settled,
                       coalesce(m.committed_micro_usd, 0) AS month_committed, coalesce(m.settled_micro_usd, 0) AS month_settled
                FROM users u
                LEFT JOIN spend_periods d ON d.user_id = u.id AND d.period = 'day' AND d.starts_on = $2
                LEFT JOIN spend_periods m ON m.user_id = u.id AND m.period = 'month' AND m.starts_on = $3
                WHERE u.id = $1
                """,
                [.text(userID.uuidString), .text(periods.day), .text(periods.month)]
            ).first
        }
        func usage(_ prefix: String, limit: String, fallback: MicroDollars?, startsOn: String, resetsAt: Date) throws -> PeriodUsage {
            let committed = try row?.int("\(prefix)_committed") ?? 0
            let settled = try row?.int("\(prefix)_settled") ?? 0
            return PeriodUsage(
                startsOn: startsOn, limit: try row?.optionalInt(limit).map(MicroDollars.init) ?? fallback,
                spent: MicroDollars(settled), reserved: MicroDollars(committed - settled), resetsAt: resetsAt
            )
        }
        return SpendUsage(
            day: try usage(
                "day", limit: "daily_limit_micro_usd", fallback: policy.defaultDailyLimit, startsOn: periods.day,
                resetsAt: periods.dayResetsAt
            ),
            month: try usage(
                "month", limit: "monthly_limit_micro_usd", fallback: policy.defaultMonthlyLimit, startsOn: periods.month,
                resetsAt: periods.monthResetsAt
            )
        )
    }
}
