import Foundation
import ImagegenCore
import PostgresClient

/// Spend per user over a range of UTC calendar days, summed in SQL from the charges ledger.
public struct CostReport: Sendable {
    public struct Row: Sendable, Equatable {
        public let userID: UUID
        public let userName: String
        public let tasks: Int
        public let images: Int
        public let spend: MicroDollars
    }

    public let from: String
    public let to: String
    public let rows: [Row]

    public var total: MicroDollars { rows.reduce(.zero) { $0 + $1.spend } }

    /// - Parameters: from, to: inclusive `YYYY-MM-DD` dates in UTC.
    public static func load(from: String, to: String, database: Database) async throws -> CostReport {
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT u.id, u.name, count(*) AS tasks, sum(c.images) AS images, sum(c.amount_micro_usd) AS spend
                FROM charges c JOIN users u ON u.id = c.user_id
                WHERE c.charged_at >= ($1::date)::timestamp AT TIME ZONE 'UTC'
                  AND c.charged_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
                GROUP BY u.id, u.name
                ORDER BY spend DESC, u.name
                """,
                [.text(from), .text(to)]
            )
        }
        return CostReport(from: from, to: to, rows: try rows.map { row in
            Row(
                userID: UUID(uuidString: try row.string("id"))!,
                userName: try row.string("name"),
                tasks: Int(try row.int("tasks")),
                images: Int(try row.int("images")),
                spend: MicroDollars(try row.int("spend"))
            )
        })
    }
}
