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
        let response = try await system.client.send(CurlRequest(url: base + "/_mock/keys", timeoutMilliseconds: 60_000))
        return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: Int]] ?? [:]
    }

    /// Mock outcome counts over all keys: "ok", "503", "429", ...
    private func outcomes(_ system: RunningSystem) async throws -> [String: Int] {
        let base = system.providerBaseURL.replacingOccurrences(of: "/v1", with: "")
        let response = try await system.client.send(CurlRequest(url: base + "/_mock/stats", timeoutMilliseconds: 60_000))
        let stats = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return stats?["outcomes"] as? [String: Int] ?? [:]
    }

    @Test("workers keep under each key's limit, spread over the pool, and meet no 429")
    func staysUnderTheLimit() async throws {
        // Half the provider's rate and a fifth of its burst: calls reach the mock up to 1.6 s later than the
        // gate admitted them (a loaded machine) before the provider's bucket could run dry.
        var plan = FaultPlan()
        plan.imagesPerMinutePerKey = 600
        plan.burstImagesPerKey = 10
        let system = try await RunningSystem.start(
            plan: plan, gate: GateSettings(imagesPerMinute: 300, burstImages: 2), providerKeys: ["sk-one", "sk-two"]
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

    @Test("a provider 429 pauses the key for every call for Retry-After, and its task loses no attempt to it")
    func providerRateLimitPausesTheKey() async throws {
        // The mock refuses the key's 4th call, whenever it comes: no race with the machine's speed.
        var plan = FaultPlan()
        plan.rateLimitedCallsPerKey = [4]
        plan.retryAfterSeconds = 2
        let concurrency = 8
        let system = try await RunningSystem.start(
            plan: plan, worker: .init(concurrency: concurrency, leaseMilliseconds: 3_000, reconcileInterval: .seconds(1))
        )
        defer { Task { await system.stop() } }
        let finals = try await run(20, on: system)
        #expect(finals.values.allSatisfy { $0["status"] as? String == "succeeded" })
        let counts = try await keyCounts(system)[SHA256.fingerprint("sk-test")] ?? [:]
        #expect(counts["rate_limited"] == 1)
        #expect(counts["images"] == 20)
        // Once the 429 is reported no worker calls with the key until Retry-After has passed; only calls
        // admitted before the report, at most one per other work slot, can reach the provider during it.
        #expect((counts["during_pause"] ?? 0) <= concurrency - 1, "\(counts["during_pause"] ?? 0) calls came during Retry-After")
        // The 429 gave its task one more attempt, so none was used up by a refusal.
        let ids = "{" + finals.keys.joined(separator: ",") + "}"
        let extra = try await system.database.run { connection in
            try connection.query("SELECT sum(max_attempts - 3)::bigint AS extra FROM tasks WHERE id = ANY($1::uuid[])", [.text(ids)])
        }.first?.int("extra")
        #expect(extra == 1)
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

    @Test("a key the provider rejects (401) is set aside while the pool has another; a lone rejected key fails its task at once")
    func rejectedKeySetAside() async throws {
        var plan = FaultPlan()
        plan.rejectedKeys = ["sk-revoked"]
        let pooled = try await RunningSystem.start(plan: plan, providerKeys: ["sk-revoked", "sk-good"])
        defer { Task { await pooled.stop() } }
        let finals = try await run(8, on: pooled)
        #expect(finals.values.allSatisfy { $0["status"] as? String == "succeeded" })
        let counts = try await keyCounts(pooled)
        #expect((1...8).contains(counts[SHA256.fingerprint("sk-revoked")]?["rejected"] ?? 0))
        #expect(counts[SHA256.fingerprint("sk-good")]?["images"] == 8)
        let status = try await pooled.gate().status()
        #expect(status.keys.first { $0.id == SHA256.fingerprint("sk-revoked") }?.asideReason == "key_rejected")

        let alone = try await RunningSystem.start(plan: plan, providerKeys: ["sk-revoked"])
        defer { Task { await alone.stop() } }
        let final = try #require(try await run(1, on: alone).values.first)
        #expect(final["status"] as? String == "failed")
        #expect((final["error"] as? [String: Any])?["code"] as? String == "provider_auth_failed")
        #expect(final["attempts"] as? Int == 1)
    }

    @Test("a task the provider keeps rate limiting does not retry for ever: past its deadline it fails as expired, uncharged")
    func deadlineEndsEndlessRetries() async throws {
        let system = try await RunningSystem.start(taskDeadline: .seconds(2))
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        let body = #"{"prompt": "always throttled [mock:429]", "model": "dall-e-2", "size": "256x256"}"#
        let taskID = try #require(try await system.submit(key: key, body).json["task_id"] as? String)
        let final = try await system.waitForTerminal(taskID: taskID, key: key)
        #expect(final.json["status"] as? String == "failed")
        #expect((final.json["error"] as? [String: Any])?["code"] as? String == "expired")
        #expect(final.json["cost_micro_usd"] == nil)
        // Every refusal gave its attempt back, so the task never ran out of attempts: only the deadline ended it.
        #expect((final.json["max_attempts"] as? Int ?? 0) - 3 == (final.json["attempts"] as? Int ?? -1))
    }

    @Test("an outage opens the breaker: tasks wait it out instead of failing, and succeed once a probe gets through")
    func outageWaitedOut() async throws {
        // The mock answers 503 until the test ends the outage, after it has seen the breaker open and a probe fail.
        var plan = FaultPlan()
        plan.outageUntilReleased = true
        let system = try await RunningSystem.start(
            backoff: BackoffPolicy(baseMilliseconds: 20, factor: 2, capMilliseconds: 200, maxAttempts: 5), plan: plan,
            gate: GateSettings(breakerFailures: 3, breakerCooldown: .seconds(1))
        )
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser()
        var ids: [String] = []
        for index in 0..<6 {
            let body = #"{"prompt": "outage \#(index)", "model": "dall-e-2", "size": "256x256"}"#
            ids.append(try #require(try await system.submit(key: key, body).json["task_id"] as? String))
        }
        let gate = system.gate()
        let deadline = ContinuousClock.now + .seconds(60)
        while try await gate.status().timesOpened < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await gate.status().timesOpened >= 2, "the breaker did not open, probe and reopen within 60 s")
        try await system.releaseHeldCalls()
        // Without the breaker, five attempts 20-200 ms apart all land inside the outage and the tasks fail.
        for id in ids {
            #expect(try await system.waitForTerminal(taskID: id, key: key).json["status"] as? String == "succeeded")
        }
        let status = try await gate.status()
        #expect(status.breaker == .closed)
        // What reached the provider during the outage, whatever the machine's speed: the 3 failures that open the
        // breaker, the calls still in flight then (at most one per other work slot: 7), and one failed probe per reopening.
        let refused = try await outcomes(system)["503"] ?? 0
        #expect(refused <= 3 + 7 + (status.timesOpened - 1), "\(refused) calls were refused during the outage")
    }
}
