import Foundation
import ImagegenCore
import PostgresClient

/// The users' spend and image counters in PostgreSQL. Every change goes through
/// `imagegen_add_to_counters` (migration 0008), the last statement of its transaction, so the
/// rows many tasks share are locked for the commit only, always in one order.
enum SpendLedger {
    /// Adds `changes` to their counters and returns what each holds afterwards.
    @discardableResult
    static func add(_ changes: [SpendCounter: CounterValues], on connection: PostgresConnection) throws -> [SpendCounter: CounterValues] {
        let changes = changes.filter { !$0.value.isZero }
        guard !changes.isEmpty else { return [:] }
        func array(_ values: [String]) -> PostgresValue { .text("{" + values.joined(separator: ",") + "}") }
        let rows = try connection.query(
            """
            SELECT counter_user, counter_period, counter_start, committed_micro_usd, committed_images
            FROM imagegen_add_to_counters($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
            """,
            [
                array(changes.keys.map(\.userID.uuidString)), array(changes.keys.map(\.period.rawValue)),
                array(changes.keys.map { "\"\($0.start)\"" }), array(changes.values.map { String($0.committedMicroUSD) }),
                array(changes.values.map { String($0.settledMicroUSD) }), array(changes.values.map { String($0.images) }),
            ]
        )
        var totals: [SpendCounter: CounterValues] = [:]
        for row in rows.map({ $0 }) {
            guard let userID = UUID(uuidString: try row.string("counter_user")),
                  let period = SpendCounter.Period(rawValue: try row.string("counter_period")) else {
                throw PostgresError(.decoding, "unexpected counter")
            }
            totals[SpendCounter(userID: userID, period: period, start: try row.string("counter_start"))] = CounterValues(
                committedMicroUSD: try row.int("committed_micro_usd"), images: try row.int("committed_images")
            )
        }
        return totals
    }

    /// The sum of several batches of changes, counter by counter.
    static func sum(_ batches: [[SpendCounter: CounterValues]]) -> [SpendCounter: CounterValues] {
        batches.reduce(into: [:]) { total, changes in total.merge(changes, uniquingKeysWith: +) }
    }
}
