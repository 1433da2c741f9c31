import ArgumentParser
import Foundation
import ImagegenCore
import ImagegenStore

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Operator commands.", subcommands: [UsersCommand.self, PricesCommand.self, TasksCommand.self, QueueCommand.self, CostReportCommand.self]
    )
}

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage users.", subcommands: [CreateUser.self, SetLimits.self]
    )

    struct SetLimits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-limits",
            abstract: "Set a user's daily and monthly spend limits (options not given stay as they are).",
            discussion: "Days and months are calendar periods in SPEND_TIME_ZONE (UTC by default)."
        )

        @Argument(help: "The user's id or name.")
        var user: String

        @OptionGroup var limits: LimitOptions

        @Flag(help: "Remove the user's own limits, so the configured defaults apply.")
        var clear = false

        func validate() throws {
            guard clear != (limits.dailyLimitUsd != nil || limits.monthlyLimitUsd != nil) else {
                throw ValidationError("give --daily-limit-usd and/or --monthly-limit-usd, or --clear alone")
            }
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let users = UserStore(database: runtime.database)
            guard let found = try await users.find(user) else { throw StartupFailure(description: "no user with id or name '\(user)'") }
            let daily = clear ? nil : try limits.daily() ?? found.dailyLimit
            let monthly = clear ? nil : try limits.monthly() ?? found.monthlyLimit
            try await users.setLimits(userID: found.id, daily: daily, monthly: monthly)
            let spend = runtime.configuration.spend
            func describe(_ own: MicroDollars?, _ fallback: MicroDollars?) -> String {
                own.map { "$\($0.usd)" } ?? fallback.map { "$\($0.usd) (default)" } ?? "none"
            }
            print("\(found.name) (\(found.id.uuidString.lowercased())): daily limit \(describe(daily, spend.defaultDailyLimit)), "
                + "monthly limit \(describe(monthly, spend.defaultMonthlyLimit))")
        }
    }

    struct CreateUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a user and print its API key once.")

        @Option(help: "The user's display name.")
        var name: String

        @OptionGroup var limits: LimitOptions

        func validate() throws {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 200, !name.contains("\u{0}") else {
                throw ValidationError("--name must be 1 to 200 characters")
            }
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let (user, key) = try await UserStore(database: runtime.database).createUser(
                name: name,
                dailyLimit: try limits.daily(),
                monthlyLimit: try limits.monthly()
            )
            print("user_id: \(user.id.uuidString.lowercased())")
            print("name: \(user.name)")
            print("api_key: \(key.secret)")
            print("(the API key is shown only now; imagegen stores only its SHA-256 digest)")
        }
    }
}

struct CostReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost-report",
        abstract: "Print spend for a range of days (both ends included), grouped by user, day, month or model.",
        discussion: """
            Days are calendar days in SPEND_TIME_ZONE (UTC by default). Columns (CSV and JSON): \
            \(CostReportFormat.csvHeader.joined(separator: ", ")). Money is exact: USD with six decimals and micro-dollars.
            """
    )

    @Option(help: "First day, YYYY-MM-DD (default: the first day of this month).")
    var from: String?

    @Option(help: "Last day, YYYY-MM-DD (default: today).")
    var to: String?

    @Option(help: "Only this user (id or name).")
    var user: String?

    @Option(help: "Group by \(CostReport.Grouping.allCases.map(\.rawValue).joined(separator: ", ")).")
    var groupBy: String = "user"

    @Option(help: "Output as \(CostReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: String = "table"

    func validate() throws {
        for (option, value) in [("--from", from), ("--to", to)] {
            if let value, Self.parseDay(value) == nil { throw ValidationError("\(option) must be a date as YYYY-MM-DD, got '\(value)'") }
        }
        if let from, let to, from > to { throw ValidationError("--from must not be after --to") }
        guard CostReport.Grouping(rawValue: groupBy) != nil else {
            throw ValidationError("--group-by must be one of \(CostReport.Grouping.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard CostReportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of \(CostReportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let runtime = try await Runtime.start(label: "imagegen.admin")
        var userID: UUID?
        if let user {
            guard let found = try await UserStore(database: runtime.database).find(user) else {
                throw StartupFailure(description: "no user with id or name '\(user)'")
            }
            userID = found.id
        }
        let policy = runtime.configuration.spend
        let today = policy.periods(at: Date())
        let report = try await CostReport.load(
            from: from ?? today.month, to: to ?? today.day, userID: userID, groupBy: CostReport.Grouping(rawValue: groupBy)!,
            policy: policy, database: runtime.database
        )
        print(try CostReportFormat(rawValue: format)!.render(report))
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

/// `--daily-limit-usd` and `--monthly-limit-usd`, shared by the user commands.
struct LimitOptions: ParsableArguments {
    @Option(help: "Daily spend limit in USD, e.g. 5 or 0.50.")
    var dailyLimitUsd: String?

    @Option(help: "Monthly spend limit in USD.")
    var monthlyLimitUsd: String?

    func validate() throws {
        _ = try daily()
        _ = try monthly()
    }

    func daily() throws -> MicroDollars? { try usdAmount(dailyLimitUsd, option: "--daily-limit-usd") }
    func monthly() throws -> MicroDollars? { try usdAmount(monthlyLimitUsd, option: "--monthly-limit-usd") }
}

/// Parses an optional USD amount option, naming the option in the error.
func usdAmount(_ text: String?, option: String) throws -> MicroDollars? {
    guard let text else { return nil }
    guard let amount = MicroDollars(usd: text) else {
        throw ValidationError("\(option) must be a non-negative amount in USD with at most 6 decimals, got '\(text)'")
    }
    return amount
}
