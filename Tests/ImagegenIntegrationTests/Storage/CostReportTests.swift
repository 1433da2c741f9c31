import Foundation
import ImagegenCore
import ImagegenStore
import PostgresClient
import Testing

@Suite("The cost report sums the charges ledger exactly, in every grouping")
struct CostReportTests {
    /// Charges in a year far in the past that no other test uses, so no other rows share the range.
    private func seed(_ database: Database, year: Int) async throws -> (alice: User, bob: User) {
        let users = UserStore(database: database)
        let store = TaskStore(database: database)
        let (alice, _) = try await users.createUser(name: "report-alice")
        let (bob, _) = try await users.createUser(name: "report-bob")
        let charges: [(User, Int64, Int, String, String)] = [
            (alice, 40_000, 1, "dall-e-3", "\(year)-01-30 00:00:00+00"), (alice, 120_000, 1, "dall-e-3", "\(year)-01-30 23:59:59.999+00"),
            (bob, 54_000, 3, "dall-e-2", "\(year)-01-31 12:00:00+00"), (bob, 20_000, 1, "dall-e-2", "\(year)-02-01 00:00:00+00"),
            (alice, 16_000, 1, "dall-e-2", "\(year)-01-29 23:59:59.999+00"),
        ]
        for (user, amount, images, model, time) in charges {
            let taskID = try await store.createTask(userID: user.id)
            try await database.run { connection in
                try connection.query(
                    """
                    INSERT INTO charges (task_id, user_id, attempt, amount_micro_usd, images, model, size, quality, charged_at)
                    VALUES ($1, $2, 1, $3, $4, $5, '1024x1024', 'standard', $6)
                    """,
                    [.text(taskID.uuidString), .text(user.id.uuidString), .int(amount), .int(images), .text(model), .text(time)]
                )
            }
        }
        let failed = try await store.createTask(userID: bob.id)
        try await database.run { connection in
            try connection.query(
                "UPDATE tasks SET status = 'failed', finished_at = '\(year)-01-31 08:00:00+00', error_code = 'x' WHERE id = $1",
                [.text(failed.uuidString)]
            )
            try connection.query(
                """
                INSERT INTO reservations (task_id, attempt, user_id, amount_micro_usd, day, month, state, created_at)
                VALUES ($1, 1, $2, 40000, '\(year)-01-31', '\(year)-01-01', 'unsettled', '\(year)-01-31 08:00:00+00')
                """,
                [.text(failed.uuidString), .text(bob.id.uuidString)]
            )
        }
        return (alice, bob)
    }

    private static let years: [CostReport.Grouping: Int] = [.user: 1991, .day: 1992, .month: 1993, .model: 1994]

    private func ledger(_ database: Database, from: String, to: String) async throws -> Int64 {
        try await database.run { connection in
            try connection.query(
                "SELECT coalesce(sum(amount_micro_usd), 0) AS total FROM charges WHERE charged_at >= $1::timestamptz AND charged_at < $2::timestamptz",
                [.text(from), .text(to)]
            )
        }.first!.int("total")
    }

    @Test("every grouping's total equals the ledger's sum to the micro-dollar", arguments: CostReport.Grouping.allCases)
    func totalsMatchLedger(_ grouping: CostReport.Grouping) async throws {
        let database = try await TestEnvironment.database()
        let year = Self.years[grouping]!
        let (alice, bob) = try await seed(database, year: year)
        let report = try await CostReport.load(from: "\(year)-01-30", to: "\(year)-01-31", groupBy: grouping, database: database)
        #expect(Set(report.rows.map(\.key)).isSuperset(of: grouping == .user ? [alice.id, bob.id].map { $0.uuidString.lowercased() } : []))
        let sum = report.total.spend.value
        #expect(sum == MicroDollars(214_000).value)
        #expect(try await ledger(database, from: "\(year)-01-30 00:00+00", to: "\(year)-02-01 00:00+00") == sum)
        #expect(report.total.failedTasks == 1)
        #expect(report.total.unsettled == MicroDollars(40_000))
        switch grouping {
        case .user:
            let byName = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.name, $0) })
            #expect(byName["report-alice"]?.spend == MicroDollars(160_000))
            #expect(byName["report-alice"]?.tasks == 2)
            #expect(byName["report-bob"]?.images == 3)
            #expect(byName["report-bob"]?.failedTasks == 1)
            #expect(byName["report-bob"]?.unsettled == MicroDollars(40_000))
        case .day:
            #expect(report.rows.map(\.key) == ["\(year)-01-30", "\(year)-01-31"])
            #expect(report.rows.map(\.spend) == [MicroDollars(160_000), MicroDollars(54_000)])
        case .month:
            #expect(report.rows.map(\.key) == ["\(year)-01"])
            #expect(report.rows.first?.tasks == 3)
        case .model:
            let byModel = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.key, $0.spend) })
            #expect(byModel["dall-e-3"] == MicroDollars(160_000))
            #expect(byModel["dall-e-2"] == MicroDollars(54_000))
        }
    }

    @Test("a wider range and one user's filter both still add up")
    func rangeAndUserFilter() async throws {
        let database = try await TestEnvironment.database()
        let year = 1995
        let (alice, _) = try await seed(database, year: year)
        let month = try await CostReport.load(from: "\(year)-01-01", to: "\(year)-02-28", groupBy: .month, database: database)
        #expect(month.rows.map(\.key) == ["\(year)-01", "\(year)-02"])
        #expect(month.rows.map(\.spend) == [MicroDollars(230_000), MicroDollars(20_000)])
        let onlyAlice = try await CostReport.load(from: "\(year)-01-29", to: "\(year)-01-31", userID: alice.id, groupBy: .day, database: database)
        #expect(onlyAlice.rows.map(\.key) == ["\(year)-01-29", "\(year)-01-30"])
        #expect(onlyAlice.total.spend == MicroDollars(176_000))
    }
}
