import RedisClient

/// The gate's Lua scripts. Each runs atomically in Redis and reads the time from a
/// `RedisClock` (Redis' own in production), so workers on hosts with skewed clocks still
/// share one bucket and one breaker.
enum GateScripts {
    /// `tokens_now(held, ...)`: a key's bucket refilled up to now, from its `tokens` and
    /// `refilled_at` fields (a key never used has a full bucket).
    private static let refill = """

        local function tokens_now(held, per_minute, burst)
            if not held[1] then return burst end
            return math.min(burst, tonumber(held[1]) + (now - tonumber(held[2])) * per_minute / 60000)
        end
        """

    /// Admits calls in their order, each of its images through the first provider key that
    /// can take it; once one must wait, those after it wait as long, so that none overtakes it.
    /// KEYS: breaker, key-id set, then one hash per provider key (in the order of the key ids).
    /// ARGV: images per minute (0: no limit), burst, probe ms, the number of calls n, n image
    /// counts, then the key ids; call j tries the keys from the (j mod keys)-th on.
    /// Returns one reply per call: {1, key id, is probe, failures seen} or {0, ms to wait, reason}.
    static let admit = TimedScript(refill + """

        local per_minute = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local calls = tonumber(ARGV[4])
        local first_key = 5 + calls
        local key_count = #ARGV - first_key + 1
        local function admit_one(images, rotation)
            local breaker = redis.call('HMGET', KEYS[1], 'state', 'open_until', 'probe_until', 'failures')
            local state = breaker[1] or 'closed'
            if state == 'open' then
                local open_until = tonumber(breaker[2] or '0')
                if now < open_until then return {0, open_until - now, 'breaker_open'} end
                state = 'half_open'
                redis.call('HSET', KEYS[1], 'state', state)
            end
            local probe = 0
            if state == 'half_open' then
                local probe_until = tonumber(breaker[3] or '0')
                if now < probe_until then return {0, math.min(probe_until - now, 250), 'breaker_probe'} end
                probe = 1
            end
            local wait = nil
            local reason = 'rate_limited'
            for tried = 0, key_count - 1 do
                local index = (rotation + tried) % key_count
                local key = KEYS[3 + index]
                local id = ARGV[first_key + index]
                local held = redis.call('HMGET', key, 'tokens', 'refilled_at', 'aside_until', 'aside_reason')
                local aside_until = tonumber(held[3] or '0')
                local admitted = true
                if now < aside_until then
                    admitted = false
                    if wait == nil or aside_until - now < wait then
                        wait = aside_until - now
                        reason = held[4] or 'key_set_aside'
                    end
                elseif per_minute > 0 then
                    local tokens = tokens_now(held, per_minute, burst)
                    -- A call larger than the bucket waits for a full bucket and then overdraws it.
                    local needed = math.min(images, burst)
                    if tokens >= needed then
                        redis.call('HSET', key, 'tokens', tokens - images, 'refilled_at', now)
                    else
                        admitted = false
                        local ms = math.ceil((needed - tokens) * 60000 / per_minute)
                        if wait == nil or ms < wait then
                            wait = ms
                            reason = 'rate_limited'
                        end
                    end
                end
                if admitted then
                    redis.call('SADD', KEYS[2], id)
                    if probe == 1 then redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[3])) end
                    return {1, id, probe, tonumber(breaker[4] or '0')}
                end
            end
            return {0, wait, reason}
        end
        local replies = {}
        local waiting = nil
        for j = 1, calls do
            if waiting == nil then
                local reply = admit_one(tonumber(ARGV[4 + j]), j - 1)
                if reply[1] == 0 then waiting = reply end
                replies[j] = reply
            else
                replies[j] = waiting
            end
        end
        return replies
        """)

    /// Records how an admitted call went.
    /// KEYS: breaker, the provider key's hash.
    /// ARGV: outcome (healthy, failed, rate_limited, out_of_quota, key_rejected, unknown), ms to set the key
    /// aside, failures that open the breaker, window ms, cool-down ms, whether the call was the probe.
    /// Returns {state after, 1 if this report changed the state}.
    static let report = TimedScript("""

        local outcome = ARGV[1]
        local was_probe = ARGV[6] == '1'
        local breaker = redis.call('HMGET', KEYS[1], 'state', 'failures', 'window_start')
        local state = breaker[1] or 'closed'
        local function open()
            redis.call('HSET', KEYS[1], 'state', 'open', 'open_until', now + tonumber(ARGV[5]), 'failures', 0, 'window_start', now)
            redis.call('HDEL', KEYS[1], 'probe_until')
            redis.call('HINCRBY', KEYS[1], 'opened', 1)
            return {'open', 1}
        end
        if outcome == 'rate_limited' or outcome == 'out_of_quota' or outcome == 'key_rejected' then
            local aside_until = now + tonumber(ARGV[2])
            if aside_until > tonumber(redis.call('HGET', KEYS[2], 'aside_until') or '0') then
                redis.call('HSET', KEYS[2], 'aside_until', aside_until, 'aside_reason', outcome)
            end
            -- A refused call says nothing of the provider's health: let another call probe.
            if was_probe then redis.call('HDEL', KEYS[1], 'probe_until') end
            return {state, 0}
        elseif outcome == 'healthy' then
            if state == 'closed' and tonumber(breaker[2] or '0') == 0 then return {state, 0} end
            redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0)
            redis.call('HDEL', KEYS[1], 'probe_until', 'open_until')
            return {'closed', state == 'closed' and 0 or 1}
        elseif outcome == 'failed' then
            if state == 'half_open' then return open() end
            if state == 'open' then return {state, 0} end
            local failures = tonumber(breaker[2] or '0')
            local window_start = tonumber(breaker[3] or '0')
            if now - window_start > tonumber(ARGV[4]) then
                failures = 0
                window_start = now
            end
            failures = failures + 1
            if failures >= tonumber(ARGV[3]) then return open() end
            redis.call('HSET', KEYS[1], 'failures', failures, 'window_start', window_start)
            return {state, 0}
        end
        if was_probe then redis.call('HDEL', KEYS[1], 'probe_until') end
        return {state, 0}
        """)

    /// The breaker and the given provider keys, for status reports.
    /// KEYS: breaker, then one hash per provider key. ARGV: images per minute, burst, then the key ids.
    /// Returns {state, ms until open ends, times opened, failures, then per key:
    /// id, whole tokens in the bucket (-1 without a limit), ms still set aside, why}.
    static let status = TimedScript(refill + """

        local per_minute = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local breaker = redis.call('HMGET', KEYS[1], 'state', 'open_until', 'opened', 'failures')
        local state = breaker[1] or 'closed'
        local open_until = tonumber(breaker[2] or '0')
        if state == 'open' and now >= open_until then state = 'half_open' end
        local reply = {state, math.max(open_until - now, 0), tonumber(breaker[3] or '0'), tonumber(breaker[4] or '0')}
        for i = 3, #ARGV do
            local held = redis.call('HMGET', KEYS[i - 1], 'tokens', 'refilled_at', 'aside_until', 'aside_reason')
            local tokens = -1
            if per_minute > 0 then tokens = tokens_now(held, per_minute, burst) end
            local aside = math.max(tonumber(held[3] or '0') - now, 0)
            table.insert(reply, ARGV[i])
            table.insert(reply, math.floor(tokens))
            table.insert(reply, aside)
            table.insert(reply, aside > 0 and (held[4] or '') or '')
        end
        return reply
        """)
}
