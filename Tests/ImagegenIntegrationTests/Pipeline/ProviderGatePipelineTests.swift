import CurlClient
import Foundation
import ImagegenCore
import ImagegenProviderGate
import MockProvider
import PostgresClient
import Testing

/// Workers behind the gate, against a mock provider that enforces OpenAI's per-key limits.
@Suite("Rate limit, key pool and circuit breaker, end to end")
struct ProviderGatePipelineTests {
    /// Submits `count` one-image tasks and returns the final status answer of each, by task id.
    private func run(_ count: Int, on system: RunningSystem, prompt: String = "a lighthouse") async throws -> [String: [String: Any]] {
        let (_, key) = try await system.createUser()
        var ids: [String] = []
        for index in 0..<count {
            let accepted = try await system.submit(key: key, #"{"prompt": "\#(prompt) \#(index)", "model": "dall-e-2", "size": "256x256"}"#)
            ids.append(try #require(accepted.json["task_id"] as? String))
        }
        var finals: [String: [String: Any]] = [:]
        for id in ids {
            finals[id] = try await system.waitForTerminal(taskID: id, key: key, timeout: .seconds(30)).json
        }
        return finals
    }

    /// The mock's counts per key fingerprint: requests, images, rate_limited, insufficient_quota.
    private func keyCounts(_ system: RunningSystem) async throws -> [String: [String: Int]] {
        let base = system.providerBaseURL.replacingOccurrences(of: "/v1", with: "")
        let response = try await system.client.send(CurlRequest(url: base + "/_mock/keys", timeoutMilliseconds: 5_000))
        return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: Int]] ?? [:]
    }

    private var perKeyLimit: FaultPlan {
        var plan = FaultPlan()
        plan.imagesPerMinutePerKey = 600
        plan.burstImagesPerKey = 5
        return plan
    }

    @Test("workers keep under each key's limit, spread over the pool, and meet no 429")
    func staysUnderTheLimit() async throws {
        // A little under the provider's figures: calls reach it a few milliseconds apart from when they were admitted.
        let system = try await RunningSystem.start(
            plan: perKeyLimit, gate: GateSettings(imagesPerMinute: 570, burstImages: 4), providerKeys: ["sk-one", "sk-two"]
        )
        defer { Task { await system.stop() } }
        let finals = try await run(30, on: system)
        #expect(finals.values.allSatisfy { $0["status"] as? String == "succeeded" })
        let counts = try await keyCounts(system)
        for key in ["sk-one", "sk-two"] {
            let served = counts[SHA256.fingerprint(key)] ?? [:]
            #expect((served["images"] ?? 0) >= 5, "key \(key) carried \(served["images"] ?? 0) images")
            #expect(served["rate_limited"] == nil, "key \(key) met \(served["rate_limited"] ?? 0) 429s")
        }
    }

    @Test("without our limit the provider's 429s pause the key for everyone, and no task loses an attempt to them")
    func providerRateLimitSlowsEveryone() async throws {
        let system = try await RunningSystem.start(plan: perKeyLimit)
        defer { Task { await system.stop() } }
        let finals = try await run(20, on: system)
        #expect(finals.values.allSatisfy { $0["status"] as? String == "succeeded" })
        let refused = try await keyCounts(system)[SHA256.fingerprint("sk-test")]?["rate_limited"] ?? 0
        #expect(refused > 0)
        // Each 429 pauses the key until the bucket has room, so refusals stay few.
        #expect(refused < 20)
        // Every 429 gave its task one more attempt, so none was used up by a refusal.
        let ids = "{" + finals.keys.joined(separator: ",") + "}"
        let extra = try await system.database.run { connection in
            try connection.query("SELECT sum(max_attempts - 3)::bigint AS extra FROM tasks WHERE id = ANY($1::uuid[])", [.text(ids)])
        }.first?.int("extra")
        #expect(extra == Int64(refused))
    }

    @Test("a key out of credit is set aside and the others finish its tasks")
    func exhaustedKeySetAside() async throws {
        var plan = FaultPlan()
        plan.exhaustedKeys = ["sk-broke"]
        let system = try await RunningSystem.start(plan: plan, providerKeys: ["sk-broke", "sk-good"])
        defer { Task { await system.stop() } }
        let finals = try await run(12, on: system)
        #expect(finals.values.allSatisfy { $0["status"] as? String == "succeeded" })
        let counts = try await keyCounts(system)
        let refusals = counts[SHA256.fingerprint("sk-broke")]?["insufficient_quota"] ?? 0
        #expect((1...8).contains(refusals), "the broke key was tried \(refusals) times")
        #expect(counts[SHA256.fingerprint("sk-good")]?["images"] == 12)
        let status = try await system.gate().status()
        #expect(status.keys.first { $0.id == SHA256.fingerprint("sk-broke") }?.asideReason == "out_of_quota")
    }

    @Test("an outage opens the breaker: tasks wait it out instead of failing, and succeed once a probe gets through")
    func outageWaitedOut() async throws {
        var plan = FaultPlan()
        plan.outageMilliseconds = 1_200
        let system = try await RunningSystem.start(
            backoff: BackoffPolicy(baseMilliseconds: 20, factor: 2, capMilliseconds: 200, maxAttempts: 5), plan: plan,
            gate: GateSettings(breakerFailures: 3, breakerCooldown: .seconds(1))
        )
        defer { Task { await system.stop() } }
        let finals = try await run(6, on: system)
        // Without the breaker, five attempts 20-200 ms apart all land inside the outage and the tasks fail.
        #expect(finals.values.allSatisfy { $0["status"] as? String == "succeeded" })
        #expect(finals.values.allSatisfy { ($0["attempts"] as? Int ?? 99) <= 3 })
        let status = try await system.gate().status()
        #expect(status.timesOpened >= 1)
        #expect(status.breaker == .closed)
    }
}
