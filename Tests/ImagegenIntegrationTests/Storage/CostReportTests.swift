import Foundation
import ImagegenCore
import ImagegenStore
import PostgresClient
import Testing

@Suite("The cost report sums the charges ledger exactly")
struct CostReportTests {
    @Test("per-user totals match the ledger to the micro-dollar and respect the date range")
    func totalsMatchLedger() async throws {
        let database = try await TestEnvironment.database()
        let users = UserStore(database: database)
        let store = TaskStore(database: database)
        let (alice, _) = try await users.createUser(name: "report-alice", dailyLimit: nil, monthlyLimit: nil)
        let (bob, _) = try await users.createUser(name: "report-bob", dailyLimit: nil, monthlyLimit: nil)
        // Charges far in the past, so that no other test's charges share the range.
        let day = "1999-03-14"
        let charges: [(User, Int64, Int, String)] = [
            (alice, 40_000, 1, "\(day) 00:00:00+00"), (alice, 120_000, 1, "\(day) 23:59:59.999+00"),
            (bob, 54_000, 3, "\(day) 12:00:00+00"), (bob, 20_000, 1, "1999-03-15 00:00:00+00"),
        ]
        for (user, amount, images, time) in charges {
            let request = ImageRequest(prompt: "p", model: "dall-e-2", size: "1024x1024", quality: "standard", style: nil, n: images, endUser: nil)
            let taskID = try await store.create(userID: user.id, request: request, unitPrice: MicroDollars(amount), maxAttempts: 1, queue: "unserved").taskID
            try await database.run { connection in
                try connection.query(
                    """
                    INSERT INTO charges (task_id, user_id, attempt, amount_micro_usd, images, model, size, quality, charged_at)
                    VALUES ($1, $2, 1, $3, $4, 'dall-e-2', '1024x1024', 'standard', $5)
                    """,
                    [.text(taskID.uuidString), .text(user.id.uuidString), .int(amount), .int(images), .text(time)]
                )
            }
        }

        let report = try await CostReport.load(from: day, to: day, database: database)
        let byName = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.userName, $0) })
        #expect(byName["report-alice"]?.spend == MicroDollars(160_000))
        #expect(byName["report-alice"]?.tasks == 2)
        #expect(byName["report-bob"]?.spend == MicroDollars(54_000))
        #expect(byName["report-bob"]?.images == 3)
        #expect(report.total == MicroDollars(214_000))

        let ledger = try await database.run { connection in
            try connection.query(
                "SELECT sum(amount_micro_usd) AS total FROM charges WHERE charged_at >= '1999-03-14 00:00+00' AND charged_at < '1999-03-15 00:00+00'"
            )
        }
        #expect(try ledger.first?.int("total") == report.total.value)
        let twoDays = try await CostReport.load(from: day, to: "1999-03-15", database: database)
        #expect(twoDays.total == MicroDollars(234_000))
    }
}
