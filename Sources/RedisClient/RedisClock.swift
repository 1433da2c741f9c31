import Synchronization

/// Where a Lua script reads the time.
///
/// In production it is Redis' own clock, so hosts with skewed clocks still agree on when a
/// lease, a bucket or a backoff runs out. A test sets the time itself instead, so that it
/// decides when those things happen rather than hoping the machine is fast enough.
public final class RedisClock: Sendable {
    /// Redis' `TIME`, read inside each script.
    public static let server = RedisClock(milliseconds: nil)

    /// The time a test set, in milliseconds; nil for Redis' clock.
    private let manual: Mutex<Int64?>

    private init(milliseconds: Int64?) {
        manual = Mutex(milliseconds)
    }

    /// A clock that stands still until `advance(by:)` moves it.
    public static func manual(startingAt milliseconds: Int64 = 1_700_000_000_000) -> RedisClock {
        RedisClock(milliseconds: milliseconds)
    }

    public func advance(by duration: Duration) {
        let step = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        manual.withLock { time in
            precondition(time != nil, "only a manual clock can be moved")
            time? += step
        }
    }

    /// The script's first argument: the time in milliseconds, or empty for Redis' clock.
    var argument: String {
        manual.withLock { time in time.map(String.init) ?? "" }
    }
}

/// A Lua script that needs the time: it starts with `now` (milliseconds) already set from
/// a `RedisClock`, and sees only the arguments its caller passed.
public struct TimedScript: Sendable {
    public let source: String

    public init(_ body: String) {
        source = """
            local clock_argument = table.remove(ARGV, 1)
            local now
            if clock_argument ~= '' then
                now = tonumber(clock_argument)
            else
                local time = redis.call('TIME')
                now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            end

            """ + body
    }
}

extension RedisConnection {
    /// Runs a timed script with the time taken from `clock`.
    public func evaluate(_ script: TimedScript, clock: RedisClock, keys: [String], arguments: [String]) throws -> RedisValue {
        try evaluate(script.source, keys: keys, arguments: [clock.argument] + arguments)
    }
}
