import CurlClient
import Foundation
import ImagegenCore
import ImagegenProvider
import MockProvider
import Synchronization
import Testing

@Suite("Replicate's predictions against the mock's Replicate endpoints, over real HTTP")
struct ReplicateImagesProviderTests {
    /// A mock provider and a Replicate client pointed at it; the stopper ends the mock.
    private func replicate(key: String = "r8-key", mockKey: String? = "r8-key") async throws -> (ReplicateImagesProvider, String, () -> Void) {
        var tasks: [Task<Void, Never>] = []
        let mock = MockProviderServer(plan: FaultPlan(), apiKey: mockKey)
        let port = try await RunningSystem.serve({
            mock.makeApplication(host: "127.0.0.1", port: 0, logger: TestEnvironment.logger, onServerRunning: $0)
        }, into: &tasks)
        let client = ReplicateImagesProvider(
            client: CurlMultiClient(), baseURL: "http://127.0.0.1:\(port)/v1", apiKeys: [key], timeoutMilliseconds: 10_000,
            longestRetryAfterMilliseconds: 30_000, pollInterval: .milliseconds(10)
        )
        return (client, "http://127.0.0.1:\(port)", { tasks.forEach { $0.cancel() } })
    }

    private func request(_ prompt: String, n: Int = 1, size: String = "1024x1024", format: String? = nil) -> ImageRequest {
        ImageRequest(
            prompt: prompt, model: "black-forest-labs/flux-schnell", size: size, quality: "standard", style: nil, n: n, endUser: nil,
            options: format.map { ImageOptions(outputFormat: $0) }
        )
    }

    private func call(_ client: ReplicateImagesProvider, _ request: ImageRequest) async -> Result<Generation, ProviderFailure> {
        do {
            return .success(try await client.generate(request, acceptsResponseFormat: false, keyID: client.keyIDs[0]))
        } catch {
            return .failure(error)
        }
    }

    private func post(_ url: String) async throws {
        _ = try await CurlMultiClient().send(CurlRequest(method: "POST", url: url, timeoutMilliseconds: 10_000))
    }

    @Test("a prediction answered within Prefer: wait gives its outputs' bytes, copied from their URLs, in the format asked")
    func finishedAtOnce() async throws {
        let (client, _, stop) = try await replicate()
        defer { stop() }
        let generation = try await call(client, request("a red kite", n: 2, size: "1024x576", format: "webp")).get()
        #expect(generation.images.count == 2)
        #expect(generation.images.allSatisfy { $0.mediaType == "image/webp" })
        #expect(generation.usage == nil, "official models are billed per output, not by tokens")
        let jpeg = try await call(client, request("a blue kite", format: "jpeg")).get()
        #expect(jpeg.images.map(\.mediaType) == ["image/jpeg"])
    }

    @Test("an unfinished prediction is polled to its end and each state it passes is reported as progress, in order")
    func pollsAndReportsProgress() async throws {
        let (client, root, stop) = try await replicate()
        defer { stop() }
        let seen = Mutex<[ProviderProgress]>([])
        let call = Task {
            try await client.generate(request("a slow kite [mock:queued]"), acceptsResponseFormat: false, keyID: client.keyIDs[0]) { progress in
                seen.withLock { $0.append(progress) }
            }
        }
        // Each release moves the mock's prediction on one state: the client sees every one.
        #expect(try await eventually { seen.withLock { $0 } == [.status("starting")] })
        try await post(root + "/_mock/release")
        #expect(try await eventually { seen.withLock { $0 } == [.status("starting"), .status("processing")] })
        try await post(root + "/_mock/release")
        let generation = try await call.value
        #expect(generation.images.count == 1)
        #expect(seen.withLock { $0 } == [.status("starting"), .status("processing")])
    }

    @Test("a call abandoned while the prediction runs cancels it at Replicate, so it is not run (nor billed) further")
    func abandonCancels() async throws {
        let (client, root, stop) = try await replicate()
        defer { stop() }
        let started = Mutex(false)
        let call = Task {
            try await client.generate(request("a kite never made [mock:queued]"), acceptsResponseFormat: false, keyID: client.keyIDs[0]) { _ in
                started.withLock { $0 = true }
            }
        }
        #expect(try await eventually { started.withLock { $0 } })
        call.cancel()
        await #expect(throws: ProviderFailure.abandoned) { try await call.value }
        let stats = try await CurlMultiClient().send(CurlRequest(url: root + "/_mock/stats", timeoutMilliseconds: 10_000))
        let outcomes = (try JSONSerialization.jsonObject(with: Data(stats.body)) as? [String: Any])?["outcomes"] as? [String: Int]
        #expect(outcomes?["replicate_canceled"] == 1)
    }

    @Test("a safety failure is final content_policy_violation; a throttle is rate_limited with its Retry-After; a bad token is an auth failure")
    func failures() async throws {
        let (client, _, stop) = try await replicate()
        defer { stop() }
        func failure(_ result: Result<Generation, ProviderFailure>) -> ProviderFailure? {
            if case .failure(let failure) = result { return failure }
            return nil
        }
        let blocked = failure(await call(client, request("a kite [mock:content_policy]")))
        #expect(blocked?.code == "content_policy_violation")
        #expect(blocked?.isRetryable == false)
        #expect(blocked?.message.contains("NSFW") == true)
        let throttled = failure(await call(client, request("a kite [mock:429]")))
        #expect(throttled?.code == "rate_limited")
        #expect(throttled?.retryAfterMilliseconds == 1_000)
        #expect(failure(await call(client, request("a kite [mock:503]")))?.code == "provider_unavailable")
        let (stranger, _, stopStranger) = try await replicate(key: "not-the-key")
        defer { stopStranger() }
        #expect(failure(await call(stranger, request("a kite")))?.code == "provider_auth_failed")
    }
}
