import Foundation
import ImagegenCore
import ImagegenStore

/// The `SpendPeriod` schema: amounts as decimal strings (as everywhere in the API);
/// `limit_usd` and `remaining_usd` are null, not absent, when there is no limit.
struct SpendPeriodBody: Codable, Hashable, Sendable {
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

/// The `ImagePeriod` schema: `limit` and `remaining` are null when there is no limit; `used`
/// counts images generated and those reserved by attempts in flight or of unknown outcome.
struct ImagePeriodBody: Codable, Hashable, Sendable {
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

extension Components.Schemas.Usage {
    init(_ usage: SpendUsage, policy: SpendPolicy) {
        self.init(
            timeZone: policy.timeZone.identifier, day: SpendPeriodBody(usage.day), month: SpendPeriodBody(usage.month),
            images: .init(hour: ImagePeriodBody(usage.hourImages), day: ImagePeriodBody(usage.dayImages))
        )
    }
}
