import Foundation
import ImagegenCore
import PostgresClient

/// Reserve-then-settle accounting of spend and image limits, run on the caller's
/// connection inside the caller's transaction, so a reservation commits or rolls back
/// together with the attempt it belongs to.
enum SpendLedger {
    /// Which limit a reservation would have passed, and how far it had got.
    struct LimitExceeded: Error {
        let limit: LimitKind
        /// Micro-dollars for a spend limit, images for an image limit.
        let cap: Int64
        let committed: Int64
    }

    /// Reserves `amount` and `images` for the attempt against the user's day, month and
    /// hour, or throws `LimitExceeded` having reserved nothing. Each conditional UPDATE locks
    /// its row, day, then month, then hour, so concurrent workers queue up and never overshoot.
    static func reserve(
        taskID: UUID, attempt: Int, userID: UUID, amount: MicroDollars, images: Int, periods: SpendPeriods, policy: SpendPolicy,
        on connection: PostgresConnection
    ) throws {
        let user = PostgresValue.text(userID.uuidString)
        let limits = try connection.query(
            "SELECT \(UserLimits.columns) FROM users WHERE id = $1", [user]
        ).first.map { try UserLimits($0) }?.or(policy.defaults) ?? policy.defaults
        try connection.query(
            """
            INSERT INTO spend_periods (user_id, period, starts_on) VALUES ($1, 'day', $2), ($1, 'month', $3)
            ON CONFLICT DO NOTHING
            """,
            [user, .text(periods.day), .text(periods.month)]
        )
        try connection.query(
            "INSERT INTO image_hours (user_id, starts_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", [user, .text(periods.hour)]
        )
        let day = Counter.spend(userID, period: "day", start: periods.day)
        let month = Counter.spend(userID, period: "month", start: periods.month)
        let hour = Counter.hourImages(userID, start: periods.hour)
        let steps: [(LimitKind, Counter, column: String, add: Int64, cap: Int64?)] = [
            (.dailySpend, day, "committed_micro_usd", amount.value, limits.dailySpend?.value),
            (.dailyImages, day, "committed_images", Int64(images), limits.dailyImages.map(Int64.init)),
            (.monthlySpend, month, "committed_micro_usd", amount.value, limits.monthlySpend?.value),
            (.hourlyImages, hour, "committed_images", Int64(images), limits.hourlyImages.map(Int64.init)),
        ]
        // Rolling back to the savepoint undoes the steps already taken and releases their row locks.
        try connection.query("SAVEPOINT reservation")
        for (kind, counter, column, add, cap) in steps {
            let updated = try connection.query(
                """
                UPDATE \(counter.table) SET \(column) = \(column) + $\(counter.key.count + 1)
                WHERE \(counter.condition) AND ($\(counter.key.count + 2)::bigint IS NULL OR \(column) + $\(counter.key.count + 1) <= $\(counter.key.count + 2))
                """,
                counter.key + [.int(add), cap.map { .int($0) } ?? .null]
            )
            guard updated.affectedRows == 0 else { continue }
            try connection.query("ROLLBACK TO SAVEPOINT reservation")
            let committed = try connection.query(
                "SELECT \(column) AS committed FROM \(counter.table) WHERE \(counter.condition)", counter.key
            ).first?.int("committed") ?? 0
            throw LimitExceeded(limit: kind, cap: cap ?? 0, committed: committed)
        }
        try connection.query("RELEASE SAVEPOINT reservation")
        try connection.query(
            """
            INSERT INTO reservations (task_id, attempt, user_id, amount_micro_usd, images, day, month, hour, state)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'reserved')
            """,
            [
                .text(taskID.uuidString), .int(attempt), user, .int(amount.value), .int(images), .text(periods.day),
                .text(periods.month), .text(periods.hour),
            ]
        )
    }

    /// How an open reservation ends.
    enum Resolution {
        /// The provider returned this many images costing this much; the charge is recorded.
        case settled(MicroDollars, images: Int)
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
            RETURNING user_id, amount_micro_usd, images, day::text AS day, month::text AS month,
                      to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS hour
            """,
            [.text(taskID.uuidString), .int(attempt), .text(state)]
        ).first else { return }
        let reserved = try row.int("amount_micro_usd"), reservedImages = try row.int("images")
        let (committed, settled, images): (Int64, Int64, Int64) = switch resolution {
        case .settled(let cost, let count): (cost.value - reserved, cost.value, Int64(count) - reservedImages)
        case .released: (-reserved, 0, -reservedImages)
        case .unsettled: (0, 0, 0)
        }
        guard committed != 0 || settled != 0 || images != 0 else { return }
        let userID = UUID(uuidString: try row.string("user_id"))!
        for (period, start) in [("day", try row.string("day")), ("month", try row.string("month"))] {
            let counter = Counter.spend(userID, period: period, start: start)
            try connection.query(
                """
                UPDATE spend_periods SET committed_micro_usd = committed_micro_usd + $4, settled_micro_usd = settled_micro_usd + $5,
                                         committed_images = committed_images + $6
                WHERE \(counter.condition)
                """,
                counter.key + [.int(committed), .int(settled), .int(period == "day" ? images : 0)]
            )
        }
        if let hour = try row.optionalString("hour"), images != 0 {
            let counter = Counter.hourImages(userID, start: hour)
            try connection.query(
                "UPDATE image_hours SET committed_images = committed_images + $3 WHERE \(counter.condition)", counter.key + [.int(images)]
            )
        }
    }

    /// One row that a reservation counts against.
    private struct Counter {
        let table: String
        let condition: String
        let key: [PostgresValue]

        static func spend(_ userID: UUID, period: String, start: String) -> Counter {
            Counter(
                table: "spend_periods", condition: "user_id = $1 AND period = $2 AND starts_on = $3",
                key: [.text(userID.uuidString), .text(period), .text(start)]
            )
        }

        static func hourImages(_ userID: UUID, start: String) -> Counter {
            Counter(table: "image_hours", condition: "user_id = $1 AND starts_at = $2", key: [.text(userID.uuidString), .text(start)])
        }
    }
}
