import Foundation
import ImagegenCore
import PostgresClient

/// Reserve-then-settle accounting of spend limits, run on the caller's connection
/// inside the caller's transaction, so a reservation commits or rolls back together
/// with the attempt it belongs to.
enum SpendLedger {
    /// Which limit a reservation would have passed.
    struct LimitExceeded: Error {
        let period: String
        let limit: MicroDollars
        let committed: MicroDollars
    }

    /// Reserves `amount` for the attempt against the user's day and month, or throws
    /// `LimitExceeded` having reserved nothing. The conditional UPDATEs lock the day row,
    /// then the month row, so concurrent workers queue up on them and never overshoot.
    static func reserve(
        taskID: UUID, attempt: Int, userID: UUID, amount: MicroDollars, periods: SpendPeriods, policy: SpendPolicy,
        on connection: PostgresConnection
    ) throws {
        let user = PostgresValue.text(userID.uuidString)
        let limits = try connection.query(
            "SELECT daily_limit_micro_usd, monthly_limit_micro_usd FROM users WHERE id = $1", [user]
        ).first
        let daily = try limits?.optionalInt("daily_limit_micro_usd") ?? policy.defaultDailyLimit?.value
        let monthly = try limits?.optionalInt("monthly_limit_micro_usd") ?? policy.defaultMonthlyLimit?.value
        try connection.query(
            """
            INSERT INTO spend_periods (user_id, period, starts_on) VALUES ($1, 'day', $2), ($1, 'month', $3)
            ON CONFLICT DO NOTHING
            """,
            [user, .text(periods.day), .text(periods.month)]
        )
        var reserved: [(String, String)] = []
        for (period, start, limit) in [("day", periods.day, daily), ("month", periods.month, monthly)] {
            let updated = try connection.query(
                """
                UPDATE spend_periods SET committed_micro_usd = committed_micro_usd + $4
                WHERE user_id = $1 AND period = $2 AND starts_on = $3
                  AND ($5::bigint IS NULL OR committed_micro_usd + $4 <= $5)
                """,
                [user, .text(period), .text(start), .int(amount.value), limit.map { .int($0) } ?? .null]
            )
            if updated.affectedRows == 0 {
                for (period, start) in reserved {
                    try adjust(userID: userID, period: period, start: start, committed: -amount.value, settled: 0, on: connection)
                }
                let committed = try connection.query(
                    "SELECT committed_micro_usd FROM spend_periods WHERE user_id = $1 AND period = $2 AND starts_on = $3",
                    [user, .text(period), .text(start)]
                ).first?.int("committed_micro_usd") ?? 0
                throw LimitExceeded(period: period, limit: MicroDollars(limit ?? 0), committed: MicroDollars(committed))
            }
            reserved.append((period, start))
        }
        try connection.query(
            """
            INSERT INTO reservations (task_id, attempt, user_id, amount_micro_usd, day, month, state)
            VALUES ($1, $2, $3, $4, $5, $6, 'reserved')
            """,
            [.text(taskID.uuidString), .int(attempt), user, .int(amount.value), .text(periods.day), .text(periods.month)]
        )
    }

    /// How an open reservation ends.
    enum Resolution {
        /// The provider returned images costing this much; the charge is recorded.
        case settled(MicroDollars)
        /// The provider certainly did not bill (it answered with an error, or was never reached).
        case released
        /// Nobody knows whether the provider billed; the reservation stays counted.
        case unsettled
    }

    /// Resolves the attempt's reservation if it is still open; does nothing otherwise.
    static func resolve(taskID: UUID, attempt: Int, as resolution: Resolution, on connection: PostgresConnection) throws {
        let state = switch resolution {
        case .settled: "settled"
        case .released: "released"
        case .unsettled: "unsettled"
        }
        guard let row = try connection.query(
            """
            UPDATE reservations SET state = $3, resolved_at = now()
            WHERE task_id = $1 AND attempt = $2 AND state = 'reserved'
            RETURNING user_id, amount_micro_usd, day::text AS day, month::text AS month
            """,
            [.text(taskID.uuidString), .int(attempt), .text(state)]
        ).first else { return }
        let reserved = try row.int("amount_micro_usd")
        let (committed, settled): (Int64, Int64) = switch resolution {
        case .settled(let cost): (cost.value - reserved, cost.value)
        case .released: (-reserved, 0)
        case .unsettled: (0, 0)
        }
        guard committed != 0 || settled != 0 else { return }
        let userID = UUID(uuidString: try row.string("user_id"))!
        for (period, start) in [("day", try row.string("day")), ("month", try row.string("month"))] {
            try adjust(userID: userID, period: period, start: start, committed: committed, settled: settled, on: connection)
        }
    }

    private static func adjust(
        userID: UUID, period: String, start: String, committed: Int64, settled: Int64, on connection: PostgresConnection
    ) throws {
        try connection.query(
            """
            UPDATE spend_periods SET committed_micro_usd = committed_micro_usd + $4, settled_micro_usd = settled_micro_usd + $5
            WHERE user_id = $1 AND period = $2 AND starts_on = $3
            """,
            [.text(userID.uuidString), .text(period), .text(start), .int(committed), .int(settled)]
        )
    }
}
