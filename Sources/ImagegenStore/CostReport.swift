import Foundation
import ImagegenCore
import PostgresClient

/// Spend over a range of calendar days, grouped by user, day, month or model and summed
/// in SQL from the charges ledger, with failed tasks and unsettled reservations alongside.
public struct CostReport: Sendable {
    public enum Grouping: String, Sendable, CaseIterable {
        case user, day, month, model
    }

    public struct Row: Sendable, Equatable {
        /// The user id, `YYYY-MM-DD`, `YYYY-MM` or model name.
        public let key: String
        /// The user's name when grouped by user; empty otherwise.
        public let name: String
        public let tasks: Int
        public let images: Int
        public let spend: MicroDollars
        public let failedTasks: Int
        /// Reservations whose outcome is unknown (the provider may have billed); counted against limits.
        public let unsettled: MicroDollars
    }

    /// How close a user came to their limits in the range: the most committed (spent, reserved
    /// and unsettled) in one day and one month.
    public struct LimitUse: Sendable, Equatable {
        public let userID: UUID
        public let name: String
        public let dailyLimit: MicroDollars?
        public let peakDay: MicroDollars
        public let monthlyLimit: MicroDollars?
        public let peakMonth: MicroDollars
    }

    public let from: String
    public let to: String
    public let grouping: Grouping
    public let timeZone: String
    public let rows: [Row]
    public let limitUse: [LimitUse]

    public var total: Row {
        Row(
            key: "TOTAL", name: "", tasks: rows.reduce(0) { $0 + $1.tasks }, images: rows.reduce(0) { $0 + $1.images },
            spend: rows.reduce(.zero) { $0 + $1.spend }, failedTasks: rows.reduce(0) { $0 + $1.failedTasks },
            unsettled: rows.reduce(.zero) { $0 + $1.unsettled }
        )
    }

    /// - Parameters: from, to: inclusive `YYYY-MM-DD` days in the spend policy's time zone.
    public static func load(
        from: String, to: String, userID: UUID? = nil, groupBy grouping: Grouping = .user, policy: SpendPolicy = SpendPolicy(),
        database: Database
    ) async throws -> CostReport {
        // Keys are chosen from this fixed list, never from input; every value is a parameter.
        func key(user: String, time: String, model: String) -> String {
            switch grouping {
            case .user: "\(user)::text"
            case .day: "to_char(\(time) AT TIME ZONE $3, 'YYYY-MM-DD')"
            case .month: "to_char(\(time) AT TIME ZONE $3, 'YYYY-MM')"
            case .model: model
            }
        }
        func inRange(_ column: String) -> String {
            "\(column) >= (($1::date)::timestamp AT TIME ZONE $3) AND \(column) < (($2::date + 1)::timestamp AT TIME ZONE $3)"
        }
        // A reservation counts on the day it was made against, as it does for the limits.
        let reservedAt = "(r.day::timestamp AT TIME ZONE $3)"
        let parameters: [PostgresValue] = [.text(from), .text(to), .text(policy.timeZone.identifier), .optional(userID?.uuidString)]
        let groupsSQL = """
                    WITH charged AS (
                        SELECT \(key(user: "c.user_id", time: "c.charged_at", model: "c.model")) AS key,
                               count(*) AS tasks, sum(c.images) AS images, sum(c.amount_micro_usd) AS spend
                        FROM charges c WHERE \(inRange("c.charged_at")) AND ($4::uuid IS NULL OR c.user_id = $4) GROUP BY 1
                    ), failed AS (
                        SELECT \(key(user: "t.user_id", time: "t.finished_at", model: "t.model")) AS key, count(*) AS failed
                        FROM tasks t WHERE t.status = 'failed' AND \(inRange("t.finished_at")) AND ($4::uuid IS NULL OR t.user_id = $4)
                        GROUP BY 1
                    ), unsettled AS (
                        SELECT \(key(user: "r.user_id", time: reservedAt, model: "t.model")) AS key,
                               sum(r.amount_micro_usd) AS unsettled
                        FROM reservations r JOIN tasks t ON t.id = r.task_id
                        WHERE r.state = 'unsettled' AND \(inRange(reservedAt)) AND ($4::uuid IS NULL OR r.user_id = $4) GROUP BY 1
                    )
                    SELECT k.key, \(grouping == .user ? "(SELECT name FROM users WHERE id::text = k.key)" : "''") AS name,
                           coalesce(c.tasks, 0) AS tasks, coalesce(c.images, 0) AS images, coalesce(c.spend, 0) AS spend,
                           coalesce(f.failed, 0) AS failed, coalesce(u.unsettled, 0) AS unsettled
                    FROM (SELECT key FROM charged UNION SELECT key FROM failed UNION SELECT key FROM unsettled) k
                    LEFT JOIN charged c ON c.key = k.key LEFT JOIN failed f ON f.key = k.key LEFT JOIN unsettled u ON u.key = k.key
                    ORDER BY \(grouping == .user ? "spend DESC, name" : "k.key")
                    """
        let (rows, limits) = try await database.run { connection in
            (
                try connection.query(groupsSQL, parameters),
                try connection.query(
                    """
                    SELECT u.id, u.name, u.daily_limit_micro_usd, u.monthly_limit_micro_usd,
                           coalesce(max(p.committed_micro_usd) FILTER (WHERE p.period = 'day'), 0) AS peak_day,
                           coalesce(max(p.committed_micro_usd) FILTER (WHERE p.period = 'month'), 0) AS peak_month
                    FROM spend_periods p JOIN users u ON u.id = p.user_id
                    WHERE p.starts_on BETWEEN date_trunc('month', $1::date)::date AND $2::date
                      AND (p.period = 'month' OR p.starts_on >= $1::date) AND ($3::uuid IS NULL OR p.user_id = $3)
                    GROUP BY u.id, u.name ORDER BY u.name
                    """,
                    [.text(from), .text(to), .optional(userID?.uuidString)]
                )
            )
        }
        return CostReport(
            from: from, to: to, grouping: grouping, timeZone: policy.timeZone.identifier,
            rows: try rows.map { row in
                Row(
                    key: try row.string("key"), name: try row.optionalString("name") ?? "", tasks: Int(try row.int("tasks")),
                    images: Int(try row.int("images")), spend: MicroDollars(try row.int("spend")),
                    failedTasks: Int(try row.int("failed")), unsettled: MicroDollars(try row.int("unsettled"))
                )
            },
            limitUse: try limits.map { row in
                LimitUse(
                    userID: UUID(uuidString: try row.string("id"))!, name: try row.string("name"),
                    dailyLimit: try row.optionalInt("daily_limit_micro_usd").map(MicroDollars.init) ?? policy.defaults.dailySpend,
                    peakDay: MicroDollars(try row.int("peak_day")),
                    monthlyLimit: try row.optionalInt("monthly_limit_micro_usd").map(MicroDollars.init) ?? policy.defaults.monthlySpend,
                    peakMonth: MicroDollars(try row.int("peak_month"))
                )
            }
        )
    }
}
