/// The Lua scripts behind each queue operation. Each runs atomically, so a task id
/// is always in exactly one of ready, delayed or inflight, whatever crashes between calls.
/// Times come from the Redis server's clock, so workers' clocks never disagree.
enum QueueScripts {
    private static let now = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)"
    /// Idle workers need one token each; more would only cause spurious wake-ups.
    private static let maxWakeups = 1023

    /// KEYS ready, delayed, entries, wakeups; ARGV id, entry, delay ms. Returns 0 if already queued.
    static let enqueue = """
        if redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[2]) == 0 then return 0 end
        local delay = tonumber(ARGV[3])
        if delay <= 0 then
            redis.call('RPUSH', KEYS[1], ARGV[1])
            redis.call('LPUSH', KEYS[4], '1')
            redis.call('LTRIM', KEYS[4], 0, \(maxWakeups))
        else
            \(now)
            redis.call('ZADD', KEYS[2], now + delay, ARGV[1])
        end
        return 1
        """

    /// KEYS ready, inflight, entries; ARGV count, lease ms. Returns [id, entry, id, entry, ...].
    static let lease = """
        \(now)
        local leased = {}
        for _ = 1, tonumber(ARGV[1]) do
            local id = redis.call('LPOP', KEYS[1])
            if not id then break end
            local entry = redis.call('HGET', KEYS[3], id)
            if entry then
                redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
                leased[#leased + 1] = id
                leased[#leased + 1] = entry
            end
        end
        return leased
        """

    /// KEYS delayed, ready, wakeups; ARGV limit. Moves due retries to ready; returns how many.
    static let promote = """
        \(now)
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
        for _, id in ipairs(due) do
            redis.call('ZREM', KEYS[1], id)
            redis.call('RPUSH', KEYS[2], id)
            redis.call('LPUSH', KEYS[3], '1')
        end
        if #due > 0 then redis.call('LTRIM', KEYS[3], 0, \(maxWakeups)) end
        return #due
        """

    /// KEYS inflight, entries; ARGV id. Forgets a finished task; returns 1 if it held the lease.
    static let acknowledge = """
        local held = redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[2], ARGV[1])
        return held
        """

    /// KEYS inflight, delayed, entries; ARGV id, entry, delay ms. Returns 0 if the lease was lost.
    static let retry = """
        if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
        \(now)
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
        redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
        return 1
        """
}
