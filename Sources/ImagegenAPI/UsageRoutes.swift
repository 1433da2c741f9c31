import Foundation
import Hummingbird
import ImagegenCore
import ImagegenStore

/// `GET /me/usage`: the caller's limits, spend and reservations today and this month, and
/// images this hour and today.
struct UsageRoutes: Sendable {
    let users: UserStore
    let spend: SpendStore

    func register(in table: inout RouteTable) {
        table.add(.get, "me/usage") { request, _ in
            let userID = try await users.authenticate(request)
            return try JSONResponse.make(status: .ok, body: UsageBody(try await spend.usage(userID: userID), policy: spend.policy))
        }
    }
}

/// Amounts as decimal strings (as everywhere in the API), `limit_usd` null when unlimited.
struct UsageBody: Encodable {
    struct Period: Encodable {
        let starts_on: String
        let limit_usd: String?
        let spent_usd: String
        let reserved_usd: String
        let remaining_usd: String?
        let resets_at: String

        init(_ usage: PeriodUsage) {
            starts_on = usage.startsOn
            limit_usd = usage.limit?.usd
            spent_usd = usage.spent.usd
            reserved_usd = usage.reserved.usd
            remaining_usd = usage.limit.map { MicroDollars(max($0.value - usage.spent.value - usage.reserved.value, 0)).usd }
            resets_at = usage.resetsAt.formatted(Date.ISO8601FormatStyle())
        }

        private enum CodingKeys: String, CodingKey {
            case starts_on, limit_usd, spent_usd, reserved_usd, remaining_usd, resets_at
        }

        /// `limit_usd` and `remaining_usd` are null, not absent, when there is no limit.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(starts_on, forKey: .starts_on)
            try container.encode(limit_usd, forKey: .limit_usd)
            try container.encode(spent_usd, forKey: .spent_usd)
            try container.encode(reserved_usd, forKey: .reserved_usd)
            try container.encode(remaining_usd, forKey: .remaining_usd)
            try container.encode(resets_at, forKey: .resets_at)
        }
    }

    /// `limit` and `remaining` are null when there is no limit; `used` counts images
    /// generated and those reserved by attempts in flight or of unknown outcome.
    struct ImagePeriod: Encodable {
        let limit: Int?
        let used: Int
        let remaining: Int?
        let resets_at: String

        init(_ usage: ImageUsage) {
            limit = usage.limit
            used = usage.used
            remaining = usage.limit.map { max($0 - usage.used, 0) }
            resets_at = usage.resetsAt.formatted(Date.ISO8601FormatStyle())
        }

        private enum CodingKeys: String, CodingKey {
            case limit, used, remaining, resets_at
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(limit, forKey: .limit)
            try container.encode(used, forKey: .used)
            try container.encode(remaining, forKey: .remaining)
            try container.encode(resets_at, forKey: .resets_at)
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
