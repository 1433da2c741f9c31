import Foundation
import ImagegenCore
import ImagegenProviderGate
import RedisClient
import Synchronization
import Testing

/// The gate's shared state in a real Redis, seen from two gates that stand for two workers.
///
/// Most tests move a clock of their own (`RedisClock.manual`) and ask the gate for one decision
/// at a time, so what they check is the gate's arithmetic, not how fast this machine is.
@Suite("Provider gate")
struct ProviderGateTests {
    let endpoint = "http://gate-test-\(UUID().uuidString.prefix(8))/v1"
    let clock = RedisClock.manual()

    func gate(_ keys: [String] = ["k1"], _ settings: GateSettings = GateSettings(), clock: RedisClock? = nil) throws -> ProviderGate {
        ProviderGate(
            endpoint: endpoint, keyIDs: keys, settings: settings, url: try TestEnvironment.redisURL(), logger: TestEnvironment.logger,
            clock: clock ?? self.clock
        )
    }

    /// The key admitted, or nil when the gate says to wait.
    func admittedKey(_ gate: ProviderGate, images: Int = 1) async throws -> String? {
        if case .admitted(let admission) = try await gate.decide(images: images) { return admission.keyID }
        return nil
    }

    func wait(_ gate: ProviderGate) async throws -> (Duration, String)? {
        if case .wait(let wait, let reason) = try await gate.decide(images: 1) { return (wait, reason) }
        return nil
    }

    @Test("two workers share one bucket: the burst goes at once, then one image per 1/rate, never more")
    func sharedBucket() async throws {
        let settings = GateSettings(imagesPerMinute: 600, burstImages: 5)
        let gates = [try gate(["k1"], settings), try gate(["k1"], settings)]
        for index in 0..<5 {
            #expect(try await admittedKey(gates[index % 2]) == "k1")
        }
        // 600 a minute is one image every 100 ms, whichever worker asks.
        for index in 5..<25 {
            let (wait, reason) = try #require(try await wait(gates[index % 2]))
            #expect(reason == "rate_limited")
            #expect(wait == .milliseconds(100))
            clock.advance(by: .milliseconds(99))
            #expect(try await admittedKey(gates[(index + 1) % 2]) == nil)
            clock.advance(by: .milliseconds(1))
            #expect(try await admittedKey(gates[(index + 1) % 2]) == "k1")
        }
        // After a quiet spell the bucket holds its burst again, and no more.
        clock.advance(by: .seconds(60))
        for _ in 0..<5 { #expect(try await admittedKey(gates[0]) == "k1") }
        #expect(try await admittedKey(gates[1]) == nil)
        // A call larger than the bucket waits for a full bucket, then goes.
        clock.advance(by: .milliseconds(400))
        #expect(try await admittedKey(gates[0], images: 8) == nil)
        clock.advance(by: .milliseconds(100))
        #expect(try await admittedKey(gates[0], images: 8) == "k1")
    }

    @Test("calls asking at once, decided together: each key's bucket is spent exactly, spread over the keys, and the rest wait")
    func callsAskingTogether() async throws {
        let gate = try gate(["k1", "k2"], GateSettings(imagesPerMinute: 600, burstImages: 3))
        let decisions = try await withThrowingTaskGroup(of: GateDecision.self) { group in
            for _ in 0..<10 { group.addTask { try await gate.decide(images: 1) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var admittedPerKey: [String: Int] = [:]
        var waits: [Duration] = []
        for decision in decisions {
            switch decision {
            case .admitted(let admission): admittedPerKey[admission.keyID, default: 0] += 1
            case .wait(let wait, let reason):
                #expect(reason == "rate_limited")
                waits.append(wait)
            }
        }
        #expect(admittedPerKey == ["k1": 3, "k2": 3])
        #expect(waits == Array(repeating: .milliseconds(100), count: 4))
        clock.advance(by: .milliseconds(100))
        #expect(try await admittedKey(gate) != nil)
    }

    @Test("the real clock: admit() waits out the bucket, so 25 calls at 10 a second after a burst of 5 take at least 1.7 s")
    func sharedBucketOnTheRealClock() async throws {
        let settings = GateSettings(imagesPerMinute: 600, burstImages: 5)
        let gates = [try gate(["k1"], settings, clock: .server), try gate(["k1"], settings, clock: .server)]
        let start = ContinuousClock.now
        let admittedAt = try await withThrowingTaskGroup(of: Duration.self) { group in
            for index in 0..<25 {
                group.addTask {
                    _ = try await gates[index % 2].admit(images: 1)
                    return ContinuousClock.now - start
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }.sorted()
        }
        // Lower bounds only: a slow machine can only make admissions later. The upper one is a liveness guard.
        #expect(admittedAt.filter { $0 < .milliseconds(300) }.count <= 8)
        #expect(admittedAt[24] >= .milliseconds(1_700))
        #expect(admittedAt[24] < .seconds(60))
    }

    @Test("a 429 pauses its key for Retry-After in every worker, while another key carries on")
    func rateLimitedKeyPauses() async throws {
        let first = try gate(["k1"]), second = try gate(["k1"]), pooled = try gate(["k1", "k2"])
        let admission = try await first.admit(images: 1)
        try await first.report(.rateLimited(retryAfter: .milliseconds(1_500)), of: admission)
        #expect(try await admittedKey(pooled) == "k2")
        let (wait, reason) = try #require(try await wait(second))
        #expect(wait == .milliseconds(1_500))
        #expect(reason == "rate_limited")
        clock.advance(by: .milliseconds(1_499))
        #expect(try await admittedKey(second) == nil)
        clock.advance(by: .milliseconds(1))
        #expect(try await admittedKey(second) == "k1")
    }

    @Test("a key out of credit is set aside for the cool-down; the pool carries on with the others")
    func outOfQuotaKeySetAside() async throws {
        let pool = try gate(["k1", "k2"], GateSettings(keyCooldown: .seconds(60)))
        var admission = try await pool.admit(images: 1)
        while admission.keyID != "k1" { admission = try await pool.admit(images: 1) }
        try await pool.report(.outOfQuota, of: admission)
        for _ in 0..<6 {
            #expect(try await pool.admit(images: 1).keyID == "k2")
        }
        let status = try await pool.status()
        let k1 = try #require(status.keys.first { $0.id == "k1" })
        #expect(k1.asideReason == "out_of_quota")
        #expect(k1.asideMilliseconds == 60_000)
        #expect(status.keys.first { $0.id == "k2" }?.asideMilliseconds == 0)
    }

    @Test("repeated failures open the breaker; calls wait the cool-down; one probe decides for all")
    func breakerOpensAndProbes() async throws {
        let settings = GateSettings(breakerFailures: 3, breakerWindow: .seconds(30), breakerCooldown: .milliseconds(800))
        let one = try gate(["k1"], settings), two = try gate(["k1"], settings)
        for _ in 0..<3 {
            try await one.report(.failed, of: try await one.admit(images: 1))
        }
        #expect(try await two.status().breaker == .open)
        let (cooldown, reason) = try #require(try await wait(one))
        #expect(cooldown == .milliseconds(800))
        #expect(reason == "breaker_open")
        clock.advance(by: .milliseconds(800))
        guard case .admitted(let probe) = try await one.decide(images: 1) else {
            Issue.record("no probe after the cool-down")
            return
        }
        #expect(probe.isProbe)
        // While the probe is out, others wait for its verdict.
        #expect(try await wait(two)?.1 == "breaker_probe")
        #expect(try await two.status().breaker == .halfOpen)
        try await one.report(.failed, of: probe)
        #expect(try await one.status().breaker == .open)
        #expect(try await wait(two)?.1 == "breaker_open")
        clock.advance(by: .milliseconds(800))
        guard case .admitted(let second) = try await two.decide(images: 1) else {
            Issue.record("no second probe after the second cool-down")
            return
        }
        #expect(second.isProbe)
        try await two.report(.answered, of: second)
        let status = try await one.status()
        #expect(status.breaker == .closed)
        #expect(status.timesOpened == 2)
        #expect(try await one.admit(images: 1).isProbe == false)
    }

    @Test("a success between failures starts the count again")
    func successResetsFailures() async throws {
        let gate = try gate(["k1"], GateSettings(breakerFailures: 3))
        for _ in 0..<2 {
            try await gate.report(.failed, of: try await gate.admit(images: 1))
        }
        try await gate.report(.answered, of: try await gate.admit(images: 1))
        for _ in 0..<2 {
            try await gate.report(.failed, of: try await gate.admit(images: 1))
        }
        let status = try await gate.status()
        #expect(status.breaker == .closed)
        #expect(status.failures == 2)
    }

    @Test("a waiting call gives up when its task is cancelled")
    func cancelledWait() async throws {
        // The manual clock never reaches the cool-down's end, so only the cancellation can end the wait.
        // The pause only lets the call start waiting: cancelled earlier, it throws the same.
        let gate = try gate(["k1"], GateSettings(breakerFailures: 1, breakerCooldown: .seconds(30)))
        try await gate.report(.failed, of: try await gate.admit(images: 1))
        let waiting = Task { try await gate.admit(images: 1) }
        try await Task.sleep(for: .milliseconds(200))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
