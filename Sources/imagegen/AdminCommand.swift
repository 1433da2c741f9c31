import ArgumentParser
import Foundation
import ImagegenCore
import ImagegenStore

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Operator commands.", subcommands: [UsersCommand.self, TasksCommand.self, QueueCommand.self, CostReportCommand.self]
    )
}

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "users", abstract: "Manage users.", subcommands: [CreateUser.self])

    struct CreateUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a user and print its API key once.")

        @Option(help: "The user's display name.")
        var name: String

        @Option(help: "Daily spend limit in USD, e.g. 5 or 0.50.")
        var dailyLimitUsd: String?

        @Option(help: "Monthly spend limit in USD.")
        var monthlyLimitUsd: String?

        func validate() throws {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 200, !name.contains("\u{0}") else {
                throw ValidationError("--name must be 1 to 200 characters")
            }
            _ = try limit(dailyLimitUsd, option: "--daily-limit-usd")
            _ = try limit(monthlyLimitUsd, option: "--monthly-limit-usd")
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let (user, key) = try await UserStore(database: runtime.database).createUser(
                name: name,
                dailyLimit: try limit(dailyLimitUsd, option: "--daily-limit-usd"),
                monthlyLimit: try limit(monthlyLimitUsd, option: "--monthly-limit-usd")
            )
            print("user_id: \(user.id.uuidString.lowercased())")
            print("name: \(user.name)")
            print("api_key: \(key.secret)")
            print("(the API key is shown only now; imagegen stores only its SHA-256 digest)")
        }

        private func limit(_ text: String?, option: String) throws -> MicroDollars? {
            guard let text else { return nil }
            guard let amount = MicroDollars(usd: text) else {
                throw ValidationError("\(option) must be a non-negative amount in USD with at most 6 decimals, got '\(text)'")
            }
            return amount
        }
    }
}

struct CostReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost-report", abstract: "Print spend per user for a range of UTC days (both ends included)."
    )

    @Option(help: "First day, YYYY-MM-DD (default: the first day of this month).")
    var from: String?

    @Option(help: "Last day, YYYY-MM-DD (default: today).")
    var to: String?

    func validate() throws {
        for (option, value) in [("--from", from), ("--to", to)] {
            if let value, Self.parseDay(value) == nil { throw ValidationError("\(option) must be a date as YYYY-MM-DD, got '\(value)'") }
        }
        if let from, let to, from > to { throw ValidationError("--from must not be after --to") }
    }

    func run() async throws {
        let runtime = try await Runtime.start(label: "imagegen.admin")
        let today = Self.dayFormatter.string(from: Date())
        let report = try await CostReport.load(
            from: from ?? String(today.prefix(8)) + "01", to: to ?? today, database: runtime.database
        )
        print(CostReportTable(report).render())
    }

    static let dayFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }()

    static func parseDay(_ text: String) -> Date? {
        guard text.count == 10, let date = dayFormatter.date(from: text), dayFormatter.string(from: date) == text else { return nil }
        return date
    }
}
