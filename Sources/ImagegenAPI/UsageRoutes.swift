import Foundation
import Hummingbird
import ImagegenCore
import ImagegenStore

/// `GET /me/usage`: the caller's limits, spend and reservations today and this month, and
/// images this hour and today.
struct UsageRoutes: Sendable {
    let spend: SpendStore

    func register(in table: inout RouteTable) {
        table.add(.get, "me/usage") { _, context in
            try JSONResponse.make(status: .ok, body: UsageBody(try await spend.usage(userID: try context.userID()), policy: spend.policy))
        }
    }
}

/// Amounts as decimal strings (as everywhere in the API); `limit_usd` and `remaining_usd`
/// are null, not absent, when there is no limit.
struct UsageBody: Encodable {
    struct Period: Encodable {
        let starts_on: String
        let limit_usd: Nullable<String>
        let spent_usd: String
        let reserved_usd: String
        let remaining_usd: Nullable<String>
        let resets_at: String

        init(_ usage: PeriodUsage) {
            starts_on = usage.startsOn
            limit_usd = Nullable(usage.limit?.usd)
            spent_usd = usage.spent.usd
            reserved_usd = usage.reserved.usd
            remaining_usd = Nullable(usage.limit.map { MicroDollars(max($0.value - usage.spent.value - usage.reserved.value, 0)).usd })
            resets_at = usage.resetsAt.formatted(Date.ISO8601FormatStyle())
        }
    }

    /// `limit` and `remaining` are null when there is no limit; `used` counts images
    /// generated and those reserved by attempts in flight or of unknown outcome.
    struct ImagePeriod: Encodable {
        let limit: Nullable<Int>
        let used: Int
        let remaining: Nullable<Int>
        let resets_at: String

        init(_ usage: ImageUsage) {
            limit = Nullable(usage.limit)
            used = usage.used
            remaining = Nullable(usage.limit.map { max($0 - usage.used, 0) })
            resets_at = usage.resetsAt.formatted(Date.ISO8601FormatStyle())
        }
    }

    struct Images: Encodable {
        let hour: ImagePeriod
        let day: ImagePeriod
    }

    let time_zone: String
    let day: Period
    let month: Period
    let images: Images

    init(_ usage: SpendUsage, policy: SpendPolicy) {
        time_zone = policy.timeZone.identifier
        day = Period(usage.day)
        month = Period(usage.month)
        images = Images(hour: ImagePeriod(usage.hourImages), day: ImagePeriod(usage.dayImages))
    }
}
