import Foundation
import ImagegenCore
import ImagegenProviderGate
import Synchronization
import Testing

/// The gate's shared state in a real Redis, seen from two gates that stand for two workers.
@Suite("Provider gate")
struct ProviderGateTests {
    let endpoint = "http://gate-test-\(UUID().uuidString.prefix(8))/v1"

    func gate(_ keys: [String] = ["k1"], _ settings: GateSettings = GateSettings()) throws -> ProviderGate {
        ProviderGate(endpoint: endpoint, keyIDs: keys, settings: settings, url: try TestEnvironment.redisURL(), logger: TestEnvironment.logger)
    }

    @Test("two workers share one bucket: the burst goes at once, the rest at the configured rate")
    func sharedBucket() async throws {
        let settings = GateSettings(imagesPerMinute: 600, burstImages: 5)
        let gates = [try gate(["k1"], settings), try gate(["k1"], settings)]
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
        // 5 at once, then 10 a second: the 25th is due after 2 s.
        #expect(admittedAt.filter { $0 < .milliseconds(300) }.count <= 8)
        #expect(admittedAt[24] >= .milliseconds(1_700))
        #expect(admittedAt[24] < .seconds(5))
    }

    @Test("a 429 pauses its key for Retry-After in every worker, while another key carries on")
    func rateLimitedKeyPauses() async throws {
        let first = try gate(["k1"]), second = try gate(["k1"]), pooled = try gate(["k1", "k2"])
        let admission = try await first.admit(images: 1)
        // Timed from before the report: the pause starts when Redis takes it, which a busy machine may answer late.
        let start = ContinuousClock.now
        try await first.report(.rateLimited(retryAfter: .milliseconds(1_500)), of: admission)
        let other = try await pooled.admit(images: 1)
        #expect(other.keyID == "k2")
        #expect(ContinuousClock.now - start < .milliseconds(1_000))
        let same = try await second.admit(images: 1)
        #expect(same.keyID == "k1")
        #expect(ContinuousClock.now - start >= .milliseconds(1_300))
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
        #expect(k1.asideMilliseconds > 50_000)
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
        let start = ContinuousClock.now
        let probe = try await one.admit(images: 1)
        #expect(probe.isProbe)
        #expect(ContinuousClock.now - start >= .milliseconds(600))
        // While the probe is out, others wait for its verdict.
        let waiter = Task { try await two.admit(images: 1) }
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await two.status().breaker == .halfOpen)
        try await one.report(.failed, of: probe)
        #expect(try await one.status().breaker == .open)
        let second = try await waiter.value
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
        let gate = try gate(["k1"], GateSettings(breakerFailures: 1, breakerCooldown: .seconds(30)))
        try await gate.report(.failed, of: try await gate.admit(images: 1))
        let waiting = Task { try await gate.admit(images: 1) }
        try await Task.sleep(for: .milliseconds(200))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
