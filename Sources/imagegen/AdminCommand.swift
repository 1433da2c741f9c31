import ArgumentParser
import Foundation
import ImagegenCore
import ImagegenStore

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Operator commands.", subcommands: [
            UsersCommand.self, KeysCommand.self, PricesCommand.self, TasksCommand.self, QueueCommand.self, CostReportCommand.self,
            PurgeCommand.self, ModelsCommand.self,
        ]
    )
}

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage users.", subcommands: [CreateUser.self, SetLimits.self, SetFallback.self]
    )

    struct SetFallback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-fallback",
            abstract: "Let a user's tasks fall back to another route of their tier by default (a request's `fallback` still decides)."
        )

        @Argument(help: "The user's id or name.") var user: String
        @Flag(help: "Turn the default off again.") var off = false

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let users = UserStore(database: runtime.database)
            guard let found = try await users.find(user) else { throw StartupFailure(description: "no user with id or name '\(user)'") }
            try await users.setFallback(userID: found.id, !off)
            print("\(found.name): tasks " + (off ? "stay on their own route unless a request asks to fall back" : "fall back unless a request says \"fallback\": false"))
        }
    }

    struct SetLimits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-limits",
            abstract: "Set a user's spend and image limits (options not given stay as they are).",
            discussion: "Hours, days and months are calendar periods in SPEND_TIME_ZONE (UTC by default)."
        )

        @Argument(help: "The user's id or name.")
        var user: String

        @OptionGroup var limits: LimitOptions

        @Flag(help: "Remove the user's own limits, so the configured defaults apply.")
        var clear = false

        func validate() throws {
            guard clear != (try limits.parsed() != UserLimits()) else {
                throw ValidationError("give one or more of the limit options, or --clear alone")
            }
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let users = UserStore(database: runtime.database)
            guard let found = try await users.find(user) else { throw StartupFailure(description: "no user with id or name '\(user)'") }
            let own = clear ? UserLimits() : found.limits.updated(by: try limits.parsed())
            try await users.setLimits(userID: found.id, own)
            let defaults = runtime.configuration.spend.defaults
            func describe<Value>(_ own: Value?, _ fallback: Value?, _ show: (Value) -> String) -> String {
                own.map(show) ?? fallback.map { "\(show($0)) (default)" } ?? "none"
            }
            let usd = { (amount: MicroDollars) in "$\(amount.usd)" }, count = { (images: Int) in "\(images) images" }
            print("\(found.name) (\(found.id.uuidString.lowercased())): "
                + "daily limit \(describe(own.dailySpend, defaults.dailySpend, usd)), "
                + "monthly limit \(describe(own.monthlySpend, defaults.monthlySpend, usd)), "
                + "hourly image limit \(describe(own.hourlyImages, defaults.hourlyImages, count)), "
                + "daily image limit \(describe(own.dailyImages, defaults.dailyImages, count))")
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
            let (user, key) = try await UserStore(database: runtime.database).createUser(name: name, limits: try limits.parsed())
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

    static func parseDay(_ text: String) -> Date? {
        CalendarDay.date(text)
    }
}

/// The spend and image limit options, shared by the user commands.
struct LimitOptions: ParsableArguments {
    @Option(help: "Daily spend limit in USD, e.g. 5 or 0.50.")
    var dailyLimitUsd: String?

    @Option(help: "Monthly spend limit in USD.")
    var monthlyLimitUsd: String?

    @Option(help: "Most images per hour.")
    var hourlyImageLimit: Int?

    @Option(help: "Most images per day.")
    var dailyImageLimit: Int?

    func validate() throws {
        _ = try parsed()
    }

    /// The limits given; those not given are nil.
    func parsed() throws -> UserLimits {
        for (option, value) in [("--hourly-image-limit", hourlyImageLimit), ("--daily-image-limit", dailyImageLimit)] {
            if let value, value < 0 { throw ValidationError("\(option) must be a whole number of images, 0 or more, got \(value)") }
        }
        return UserLimits(
            dailySpend: try usdAmount(dailyLimitUsd, option: "--daily-limit-usd"),
            monthlySpend: try usdAmount(monthlyLimitUsd, option: "--monthly-limit-usd"),
            hourlyImages: hourlyImageLimit, dailyImages: dailyImageLimit
        )
    }
}

/// Parses an optional USD amount option, naming the option in the error.
func usdAmount(_ text: String?, option: String) throws -> MicroDollars? {
    guard let text else { return nil }
    guard let amount = MicroDollars(usd: text) else {
        throw ValidationError("\(option) must be a non-negative amount in USD with at most 6 decimals, got '\(text)'")
    }
    return amount
}
