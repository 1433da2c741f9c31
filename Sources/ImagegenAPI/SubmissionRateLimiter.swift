import BlockingIO
import Foundation
import Logging
import RedisClient

/// Paces each user's submissions with one counter in Redis that every API process shares.
///
/// It is GCRA, the token bucket kept as one timestamp: the moment the user's bucket would
/// be full again. Redis' clock decides (a `RedisClock`), so API hosts with skewed clocks still agree.
final class SubmissionRateLimiter: Sendable {
    let limit: SubmissionRateLimit
    private let connections: LanePool<RedisConnection>
    private let clock: RedisClock
    private let logger: Logger

    init(limit: SubmissionRateLimit, url: RedisURL, clock: RedisClock, logger: Logger) {
        self.limit = limit
        self.clock = clock
        // A short timeout: when Redis is slow the limiter steps aside rather than hold up submissions.
        connections = LanePool(
            label: "imagegen.redis.rate", resources: (0..<2).map { _ in RedisConnection(url: url, timeoutSeconds: 1, logger: logger) }
        )
        self.logger = logger
    }

    /// Takes one submission from `userID`'s allowance, or throws 429 with the seconds until one is free.
    ///
    /// With Redis unreachable it lets the submission through: the task row is what makes a
    /// task safe, and refusing every client during a Redis outage would be worse than not pacing them.
    func admit(userID: UUID) async throws {
        guard limit.perMinute > 0 else { return }
        let key = "imagegen:submit-rate:\(userID.uuidString.lowercased())"
        let interval = 60_000.0 / Double(limit.perMinute)
        let arguments = [String(interval), String(limit.burst)]
        let clock = self.clock
        let waitMilliseconds: Int64
        do {
            waitMilliseconds = try await connections.withResource { connection in
                try connection.evaluate(Self.script, clock: clock, keys: [key], arguments: arguments).integer ?? 0
            }
        } catch {
            logger.warning("submission rate limit skipped: Redis did not answer", metadata: ["error": "\(error)"])
            return
        }
        guard waitMilliseconds > 0 else { return }
        throw APIError(
            .tooManyRequests, code: "rate_limited",
            message: "more than \(limit.perMinute) submissions a minute (bursts of \(limit.burst)); retry after the Retry-After seconds",
            headers: [.retryAfter: String(max(1, (waitMilliseconds + 999) / 1000))]
        )
    }

    /// Returns 0 and takes the slot when it is free, else the milliseconds until it is.
    static let script = TimedScript("""
        local interval = tonumber(ARGV[1])
        local capacity = interval * tonumber(ARGV[2])
        local full_at = tonumber(redis.call('GET', KEYS[1]) or now)
        if full_at < now then full_at = now end
        local next_full_at = full_at + interval
        if next_full_at - now > capacity then
            return math.ceil(next_full_at - now - capacity)
        end
        redis.call('SET', KEYS[1], tostring(next_full_at), 'PX', math.ceil(next_full_at - now))
        return 0
        """)
}
