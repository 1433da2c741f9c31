import RedisClient

/// The Lua scripts behind each queue operation. Each runs atomically, so a task id
/// is always in exactly one of ready, delayed or inflight, whatever crashes between calls.
/// Times come from a `RedisClock`: the Redis server's own in production, so workers' clocks never disagree.
///
/// Every change a worker makes to a leased task is fenced by its owner: a worker
/// whose lease was reaped cannot acknowledge, retry or hand back the new holder's task.
enum QueueScripts {
    /// Idle workers need one token each; more would only cause spurious wake-ups.
    private static let maxWakeups = 1023
    private static func wake(_ wakeups: String, count: String) -> String {
        """
        for _ = 1, math.min(\(count), \(maxWakeups + 1)) do redis.call('LPUSH', \(wakeups), '1') end
        redis.call('LTRIM', \(wakeups), 0, \(maxWakeups))
        """
    }

    /// KEYS ready, delayed, entries, wakeups; ARGV id, entry, delay ms, repeated for each task.
    /// Returns 1 for each task enqueued and 0 for each one already queued, in order.
    static let enqueue = TimedScript("""
        local enqueued, ready = {}, 0
        for i = 1, #ARGV, 3 do
            if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) == 0 then
                enqueued[#enqueued + 1] = 0
            else
                local delay = tonumber(ARGV[i + 2])
                if delay <= 0 then
                    redis.call('ZADD', KEYS[1], now, ARGV[i])
                    ready = ready + 1
                else
                    redis.call('ZADD', KEYS[2], now + delay, ARGV[i])
                end
                enqueued[#enqueued + 1] = 1
            end
        end
        if ready > 0 then
            \(wake("KEYS[4]", count: "ready"))
        end
        return enqueued
        """)

    /// KEYS ready, delayed, inflight, entries, leases, wakeups; ARGV count, lease ms, owner, upkeep limit.
    ///
    /// Before leasing it does the queue's upkeep, so that no separate process is needed
    /// for it: due retries become ready, and tasks whose lease expired (their worker died
    /// or stalled) go back to ready. Returns [reaped, promoted, id, entry, id, entry, ...].
    static let lease = TimedScript("""
        local limit = tonumber(ARGV[4])
        local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
        for i = 1, #due, 2 do
            redis.call('ZREM', KEYS[2], due[i])
            redis.call('ZADD', KEYS[1], due[i + 1], due[i])
        end
        local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)
        local reaped = 0
        for _, id in ipairs(expired) do
            redis.call('ZREM', KEYS[3], id)
            redis.call('HDEL', KEYS[5], id)
            if redis.call('HEXISTS', KEYS[4], id) == 1 then
                redis.call('ZADD', KEYS[1], now, id)
                reaped = reaped + 1
            end
        end
        local leased = {reaped, #due / 2}
        local popped = redis.call('ZPOPMIN', KEYS[1], tonumber(ARGV[1]))
        for i = 1, #popped, 2 do
            local id = popped[i]
            local entry = redis.call('HGET', KEYS[4], id)
            if entry then
                redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), id)
                redis.call('HSET', KEYS[5], id, ARGV[3])
                leased[#leased + 1] = id
                leased[#leased + 1] = entry
            end
        end
        -- The tasks taken need no idle worker woken for them any more.
        local taken = (#leased - 2) / 2
        if taken > 0 then redis.call('LPOP', KEYS[6], taken) end
        local moved = reaped + #due / 2
        if moved > 0 and redis.call('ZCARD', KEYS[1]) > 0 then
            \(wake("KEYS[6]", count: "moved"))
        end
        return leased
        """)

    /// KEYS inflight, entries, leases; ARGV lease ms, owner, then id, entry pairs.
    ///
    /// Extends the owner's leases. A task whose queue state was wiped (FLUSHALL, Redis
    /// restarted without data) is claimed again, so the reconciler does not start a
    /// second attempt of it. Returns the ids whose lease now belongs to someone else.
    static let heartbeat = TimedScript("""
        local deadline = now + tonumber(ARGV[1])
        local lost = {}
        for i = 3, #ARGV, 2 do
            local id = ARGV[i]
            local holder = redis.call('HGET', KEYS[3], id)
            if holder == ARGV[2] then
                redis.call('ZADD', KEYS[1], deadline, id)
            elseif not holder and redis.call('HEXISTS', KEYS[2], id) == 0 then
                redis.call('HSET', KEYS[2], id, ARGV[i + 1])
                redis.call('HSET', KEYS[3], id, ARGV[2])
                redis.call('ZADD', KEYS[1], deadline, id)
            else
                lost[#lost + 1] = id
            end
        end
        return lost
        """)

    /// KEYS inflight, entries, leases; ARGV owner, then the ids. Forgets finished tasks; returns,
    /// for each id in order, 1 or 0 if its lease was lost.
    static let acknowledge = """
        local acknowledged = {}
        for i = 2, #ARGV do
            if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[1] then
                redis.call('ZREM', KEYS[1], ARGV[i])
                redis.call('HDEL', KEYS[2], ARGV[i])
                redis.call('HDEL', KEYS[3], ARGV[i])
                acknowledged[#acknowledged + 1] = 1
            else
                acknowledged[#acknowledged + 1] = 0
            end
        end
        return acknowledged
        """

    /// KEYS inflight, delayed, entries, leases; ARGV id, entry, delay ms, owner. Returns 0 if the lease was lost.
    static let retry = TimedScript("""
        if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[4] then return 0 end
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[4], ARGV[1])
        redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
        redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
        return 1
        """)

    /// KEYS inflight, ready, leases, wakeups; ARGV id, owner. Returns an unfinished task
    /// to the front of the ready queue; returns 0 if the lease was lost.
    static let handBack = TimedScript("""
        if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[3], ARGV[1])
        local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
        redis.call('ZADD', KEYS[2], math.min(tonumber(first[2] or now), now) - 1, ARGV[1])
        \(wake("KEYS[4]", count: "1"))
        return 1
        """)

    /// KEYS ready, delayed, entries; ARGV id. Withdraws a waiting task; a leased one is left to its worker.
    static let withdraw = """
        if redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
        redis.call('HDEL', KEYS[3], ARGV[1])
        return 1
        """

    /// KEYS ready, delayed, inflight, entries, leases; ARGV ids. Returns the ids the queue
    /// does not hold, after clearing any half-kept trace of them (an entry with no place).
    static let missing = """
        local missing = {}
        for _, id in ipairs(ARGV) do
            local placed = redis.call('ZSCORE', KEYS[1], id) or redis.call('ZSCORE', KEYS[2], id)
                or redis.call('ZSCORE', KEYS[3], id)
            if not (placed and redis.call('HEXISTS', KEYS[4], id) == 1) then
                redis.call('ZREM', KEYS[1], id)
                redis.call('ZREM', KEYS[2], id)
                redis.call('ZREM', KEYS[3], id)
                redis.call('HDEL', KEYS[4], id)
                redis.call('HDEL', KEYS[5], id)
                missing[#missing + 1] = id
            end
        end
        return missing
        """

    /// KEYS ready, delayed, inflight. Returns [ready, delayed, inflight, expired leases,
    /// oldest ready score or -1, now] as one consistent snapshot.
    static let stats = TimedScript("""
        local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        return {
            redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]),
            redis.call('ZCOUNT', KEYS[3], '-inf', now), tonumber(oldest[2] or -1), now
        }
        """)
}
