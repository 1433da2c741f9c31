import Foundation
import ImagegenCore
import ImagegenStore
import Testing

@Suite("imagegen admin users set-limits, prices set and cost-report formats")
struct AdminSpendCommandTests {
    private var environment: [String: String] {
        get throws { ["DATABASE_URL": try TestEnvironment.databaseURL(), "DEFAULT_DAILY_LIMIT_USD": "2"] }
    }

    @Test("set-limits changes only the limits given, and --clear falls back to the defaults")
    func setLimits() async throws {
        let database = try await TestEnvironment.database()
        let (user, _) = try await UserStore(database: database).createUser(name: "limit-\(UUID().uuidString.prefix(6))")
        let id = user.id.uuidString.lowercased()

        let set = try await ChildProcess.run(["admin", "users", "set-limits", id, "--daily-limit-usd", "1.5", "--monthly-limit-usd", "30"], environment: try environment)
        #expect(set.status == 0)
        #expect(set.output.contains("daily limit $1.500000, monthly limit $30.000000"))
        _ = try await ChildProcess.run(["admin", "users", "set-limits", user.name, "--monthly-limit-usd", "40"], environment: try environment)
        let images = try await ChildProcess.run(["admin", "users", "set-limits", id, "--hourly-image-limit", "10"], environment: try environment)
        #expect(images.output.contains("hourly image limit 10 images, daily image limit none"))
        let updated = try #require(try await UserStore(database: database).find(id))
        #expect(updated.limits == UserLimits(dailySpend: MicroDollars(1_500_000), monthlySpend: MicroDollars(40_000_000), hourlyImages: 10))

        let cleared = try await ChildProcess.run(["admin", "users", "set-limits", id, "--clear"], environment: try environment)
        #expect(cleared.output.contains("daily limit $2.000000 (default), monthly limit none"))
        #expect(try await UserStore(database: database).find(id)?.limits == UserLimits())

        for arguments in [
            ["--clear", "--daily-limit-usd", "1"], [], ["--daily-limit-usd", "-1"], ["--daily-limit-usd", "0.0000001"],
            ["--daily-image-limit", "-1"], ["--hourly-image-limit", "many"],
        ] {
            let bad = try await ChildProcess.run(["admin", "users", "set-limits", id] + arguments, environment: try environment)
            #expect(bad.status != 0)
            #expect(bad.error.split(separator: "\n").first?.hasPrefix("Error: ") == true)
        }
        #expect(try await ChildProcess.run(["admin", "users", "set-limits", "nobody-\(UUID())", "--clear"], environment: try environment).status != 0)
    }

    @Test("prices set adds an effective-dated price: a future one waits, a past one applies, history stays")
    func setPrice() async throws {
        let database = try await TestEnvironment.database()
        let model = try await database.addModel(prefix: "priced", unitPrice: nil)
        let base = ["admin", "prices", "set", "--model", model, "--size", "1024x1024", "--quality", "standard"]
        #expect(try await ChildProcess.run(base + ["--usd", "0.05", "--effective-from", "2020-01-01T00:00:00Z"], environment: try environment).status == 0)
        let future = try await ChildProcess.run(base + ["--usd", "0.07", "--effective-from", "2099-01-01T00:00:00Z"], environment: try environment)
        #expect(future.output.contains("$0.070000 per image from 2099-01-01T00:00:00.000Z"))
        let catalog = try await CatalogStore(database: database).load(defaultModel: "dall-e-3")
        #expect(catalog.prices[PriceKey(model: model, size: "1024x1024", quality: "standard")] == MicroDollars(50_000))

        let unknown = try await ChildProcess.run(["admin", "prices", "set", "--model", "nope", "--size", "1", "--quality", "q", "--usd", "1"], environment: try environment)
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("no model named 'nope'"))
        let badSize = try await ChildProcess.run(base.dropLast(4) + ["--size", "9x9", "--quality", "standard", "--usd", "1"], environment: try environment)
        #expect(badSize.error.contains("does not offer size '9x9'"))
    }

    @Test("cost-report as CSV and JSON is machine-readable and agrees with the table's total")
    func reportFormats() async throws {
        let database = try await TestEnvironment.database()
        let (user, _) = try await UserStore(database: database).createUser(name: "csv,\"quoted\"")
        let taskID = try await TaskStore(database: database).createTask(userID: user.id)
        try await database.run { connection in
            try connection.query(
                """
                INSERT INTO charges (task_id, user_id, attempt, amount_micro_usd, images, model, size, quality, charged_at)
                VALUES ($1, $2, 1, 123456, 2, 'dall-e-2', '1024x1024', 'standard', '1996-05-04 10:00:00+00')
                """,
                [.text(taskID.uuidString), .text(user.id.uuidString)]
            )
        }
        let range = ["admin", "cost-report", "--from", "1996-05-01", "--to", "1996-05-31"]
        let csv = try await ChildProcess.run(range + ["--format", "csv"], environment: try environment)
        #expect(csv.status == 0)
        let lines = csv.output.split(separator: "\n")
        #expect(lines.first == "group,name,tasks,images,spend_usd,spend_micro_usd,failed_tasks,unsettled_usd,unsettled_micro_usd")
        #expect(lines.contains { $0 == "\(user.id.uuidString.lowercased()),\"csv,\"\"quoted\"\"\",1,2,0.123456,123456,0,0.000000,0" })

        let json = try await ChildProcess.run(range + ["--format", "json", "--group-by", "day", "--user", user.id.uuidString], environment: try environment)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(body["group_by"] as? String == "day")
        let rows = try #require(body["rows"] as? [[String: Any]])
        #expect(rows.map { $0["group"] as? String } == ["1996-05-04"])
        #expect((body["total"] as? [String: Any])?["spend_micro_usd"] as? Int == 123_456)

        let table = try await ChildProcess.run(range + ["--group-by", "model", "--user", user.id.uuidString], environment: try environment)
        #expect(table.output.split(separator: "\n").contains { $0.hasPrefix("TOTAL") && $0.contains("0.123456") })
        let bad = try await ChildProcess.run(range + ["--group-by", "week"], environment: try environment)
        #expect(bad.status != 0)
    }
}
