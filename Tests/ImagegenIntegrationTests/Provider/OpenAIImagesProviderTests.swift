import CurlClient
import Foundation
import ImagegenCore
import ImagegenProvider
import MockProvider
import Synchronization
import Testing

@Suite("The provider client against the mock provider's injected faults, over real HTTP")
struct OpenAIImagesProviderTests {
    private let request = ImageRequest(prompt: "a kite", model: "dall-e-3", size: "1792x1024", quality: "hd", style: "vivid", n: 1, endUser: "u-42")

    /// Starts a mock provider with `plan` and returns a client pointed at it, plus a stopper.
    private func provider(
        _ plan: FaultPlan, apiKey: String? = nil, clientKey: String = "sk-test", timeoutMilliseconds: Int = 5_000,
        maxResponseBytes: Int = 64 << 20, dialect: OpenAIImagesProvider.Dialect = .openAI
    ) async throws -> (OpenAIImagesProvider, () -> Void) {
        var tasks: [Task<Void, Never>] = []
        let mock = MockProviderServer(plan: plan, apiKey: apiKey)
        let port = try await RunningSystem.serve({
            mock.makeApplication(host: "127.0.0.1", port: 0, logger: TestEnvironment.logger, onServerRunning: $0)
        }, into: &tasks)
        // Azure's base URL is the resource's endpoint, without OpenAI's version path.
        let client = OpenAIImagesProvider(
            client: CurlMultiClient(), baseURL: "http://127.0.0.1:\(port)" + TestProviderAPI.openAI(dialect).versionPath, apiKeys: [clientKey],
            timeoutMilliseconds: timeoutMilliseconds, maxResponseBytes: maxResponseBytes, longestRetryAfterMilliseconds: 30_000,
            dialect: dialect
        )
        return (client, { tasks.forEach { $0.cancel() } })
    }

    private func failure(of call: () async throws(ProviderFailure) -> Generation) async -> ProviderFailure? {
        do {
            _ = try await call()
            return nil
        } catch {
            return error
        }
    }

    @Test("a healthy answer yields a checked image of the requested size and the revised prompt")
    func success() async throws {
        let (client, stop) = try await provider(FaultPlan())
        defer { stop() }
        let generation = try await client.generate(request, acceptsResponseFormat: true)
        #expect(generation.usage == nil)
        let images = generation.images
        #expect(images.count == 1)
        #expect(ImageInspector.inspect(images[0].bytes) == ImageInspector.Image(mediaType: "image/png", width: 1792, height: 1024))
        #expect(images[0].revisedPrompt == "A detailed rendering of: a kite")
    }

    @Test("an injected 429 is retryable and carries Retry-After")
    func rateLimited() async throws {
        var plan = FaultPlan()
        plan.rates = [.rateLimited: 1]
        plan.retryAfterSeconds = 7
        let (client, stop) = try await provider(plan)
        defer { stop() }
        let failure = await failure { () async throws(ProviderFailure) in try await client.generate(request, acceptsResponseFormat: true) }
        #expect(failure?.code == "rate_limited")
        #expect(failure?.isRetryable == true)
        #expect(failure?.retryAfterMilliseconds == 7_000)
        #expect(failure?.httpStatus == 429)
    }

    @Test("injected faults map to their codes; a hostile Retry-After is bounded or ignored, never a crash", arguments: [
        (FaultPlan.Fault.serverError, "provider_unavailable", true, nil),
        (.overloaded, "provider_unavailable", true, nil),
        (.malformed, "malformed_response", true, nil),
        (.badBase64, "invalid_image", true, nil),
        (.contentPolicy, "content_policy_violation", false, nil),
        (.moderationBlocked, "content_policy_violation", false, nil),
        (.billingHardLimit, "provider_quota_exceeded", true, nil),
        (.quota, "provider_quota_exceeded", true, nil),
        (.retryAfterInfinite, "rate_limited", true, nil),
        (.retryAfterHuge, "rate_limited", true, 30_000),
    ] as [(FaultPlan.Fault, String, Bool, Int64?)])
    func faults(_ fault: FaultPlan.Fault, _ code: String, _ retryable: Bool, _ retryAfter: Int64?) async throws {
        var plan = FaultPlan()
        plan.rates = [fault: 1]
        let (client, stop) = try await provider(plan)
        defer { stop() }
        let failure = await failure { () async throws(ProviderFailure) in try await client.generate(request, acceptsResponseFormat: true) }
        #expect(failure?.code == code)
        #expect(failure?.isRetryable == retryable)
        #expect(failure?.retryAfterMilliseconds == retryAfter)
    }

    @Test("Azure OpenAI's wire format: the deployment in the path picks the model, api-version and the api-key header are sent")
    func azure() async throws {
        let azure = OpenAIImagesProvider.Dialect.azure(deployment: "gpt-image-2", apiVersion: "2025-04-01-preview")
        let (client, stop) = try await provider(FaultPlan(), apiKey: "azure-key", clientKey: "azure-key", dialect: azure)
        defer { stop() }
        let request = ImageRequest(prompt: "a kite", model: "gpt-image-2", size: "1536x1024", quality: "low", style: nil, n: 2, endUser: nil)
        let generation = try await client.generate(request, acceptsResponseFormat: false)
        #expect(generation.images.count == 2)
        #expect(ImageInspector.inspect(generation.images[0].bytes) == ImageInspector.Image(mediaType: "image/png", width: 1536, height: 1024))
        // The mock reports tokens only for a gpt-image model: the deployment named it.
        let outputTokens: Int64? = generation.usage?.outputTokens
        #expect(outputTokens == 816)

        let (wrongKey, stopWrongKey) = try await provider(FaultPlan(), apiKey: "azure-key", clientKey: "other-key", dialect: azure)
        defer { stopWrongKey() }
        let auth = await failure { () async throws(ProviderFailure) in try await wrongKey.generate(request, acceptsResponseFormat: false) }
        #expect(auth?.code == "provider_auth_failed")

        var refusing = FaultPlan()
        refusing.rates = [.contentPolicy: 1]
        let (filtered, stopFiltered) = try await provider(refusing, dialect: azure)
        defer { stopFiltered() }
        let refusal = await failure { () async throws(ProviderFailure) in try await filtered.generate(request, acceptsResponseFormat: false) }
        #expect(refusal?.code == "content_policy_violation")
        #expect(refusal?.isRetryable == false)
        #expect(refusal?.message.contains("safety system") == true)
    }

    @Test("Together AI's wire format: width and height instead of size, a model named owner/name, OpenAI's answer")
    func together() async throws {
        let (client, stop) = try await provider(FaultPlan(), dialect: .together)
        defer { stop() }
        let request = ImageRequest(
            prompt: "a kite", model: "black-forest-labs/FLUX.1-schnell", size: "768x512", quality: "standard", style: nil, n: 2, endUser: nil
        )
        let generation = try await client.generate(request, acceptsResponseFormat: true)
        #expect(generation.images.count == 2)
        // The mock drew the size it was sent as width and height.
        #expect(ImageInspector.inspect(generation.images[0].bytes) == ImageInspector.Image(mediaType: "image/png", width: 768, height: 512))
        #expect(generation.usage == nil)
        // OpenAI's form of the same call names no such model.
        let (openAI, stopOpenAI) = try await provider(FaultPlan())
        defer { stopOpenAI() }
        let unknown = await failure { () async throws(ProviderFailure) in try await openAI.generate(request, acceptsResponseFormat: true) }
        #expect(unknown?.code == "model_not_found")
    }

    @Test("Gemini's generateContent: inlineData is the image, usageMetadata the tokens; IMAGE_SAFETY, RESOURCE_EXHAUSTED and a bad key map to our codes")
    func gemini() async throws {
        var tasks: [Task<Void, Never>] = []
        defer { tasks.forEach { $0.cancel() } }
        let mock = MockProviderServer(plan: FaultPlan(), apiKey: "goog-key")
        let port = try await RunningSystem.serve({
            mock.makeApplication(host: "127.0.0.1", port: 0, logger: TestEnvironment.logger, onServerRunning: $0)
        }, into: &tasks)
        func gemini(key: String) -> GeminiImagesProvider {
            GeminiImagesProvider(
                client: CurlMultiClient(), baseURL: "http://127.0.0.1:\(port)/v1beta", apiKeys: [key], timeoutMilliseconds: 5_000,
                longestRetryAfterMilliseconds: 30_000
            )
        }
        let client = gemini(key: "goog-key")
        func ask(_ prompt: String, model: String = "gemini-2.5-flash-image", with client: GeminiImagesProvider) async -> Result<Generation, ProviderFailure> {
            let request = ImageRequest(prompt: prompt, model: model, size: "1024x1024", quality: "standard", style: nil, n: 1, endUser: nil)
            do {
                return .success(try await client.generate(request, acceptsResponseFormat: false, keyID: client.keyIDs[0]))
            } catch {
                return .failure(error)
            }
        }
        let generation = try await ask("a kite over the sea", with: client).get()
        #expect(generation.images.count == 1)
        #expect(generation.images[0].mediaType == "image/png")
        #expect(generation.usage == TokenUsage(textInputTokens: 5, imageInputTokens: 0, outputTokens: 1290))

        func failure(_ result: Result<Generation, ProviderFailure>) -> ProviderFailure? {
            if case .failure(let failure) = result { return failure }
            return nil
        }
        let blocked = failure(await ask("a kite [mock:content_policy]", with: client))
        #expect(blocked?.code == "content_policy_violation")
        #expect(blocked?.isRetryable == false)
        #expect(blocked?.message.hasSuffix("(IMAGE_SAFETY: HARM_CATEGORY_DANGEROUS_CONTENT)") == true, "the blocking category is named")
        let limited = failure(await ask("a kite [mock:429]", with: client))
        #expect(limited?.code == "rate_limited")
        #expect(limited?.retryAfterMilliseconds == 1_000)
        let unavailable = failure(await ask("a kite [mock:503]", with: client))
        #expect(unavailable?.code == "provider_unavailable")
        #expect(unavailable?.isRetryable == true)
        #expect(failure(await ask("a kite", with: gemini(key: "not-the-key")))?.code == "provider_auth_failed")
        #expect(failure(await ask("a kite", model: "imagen-nope", with: client))?.code == "model_not_found")
    }

    @Test("a streamed gpt-image call hands each draft to progress while the call runs, then returns the image and its usage")
    func streamedDrafts() async throws {
        var tasks: [Task<Void, Never>] = []
        defer { tasks.forEach { $0.cancel() } }
        let mock = MockProviderServer(plan: FaultPlan())
        let port = try await RunningSystem.serve({
            mock.makeApplication(host: "127.0.0.1", port: 0, logger: TestEnvironment.logger, onServerRunning: $0)
        }, into: &tasks)
        let client = OpenAIImagesProvider(
            client: CurlMultiClient(), baseURL: "http://127.0.0.1:\(port)/v1", apiKeys: ["sk-test"], timeoutMilliseconds: 10_000
        )
        let request = ImageRequest(
            prompt: "a kite drawn slowly [mock:hold]", model: "gpt-image-2", size: "1024x1024", quality: "low", style: nil, n: 1, endUser: nil,
            options: ImageOptions(partialImages: 2)
        )
        let drafts = Mutex<[Int]>([])
        let call = Task {
            try await client.generate(request, acceptsResponseFormat: false, keyID: client.keyIDs[0]) { progress in
                if case .partialImage(let index, let image) = progress, image.mediaType == "image/png" { drafts.withLock { $0.append(index) } }
            }
        }
        // The mock sends both drafts and holds the final image until released: they arrived while the call ran.
        #expect(try await eventually { drafts.withLock { $0 } == [0, 1] })
        let released = try await CurlMultiClient().send(
            CurlRequest(method: "POST", url: "http://127.0.0.1:\(port)/_mock/release", timeoutMilliseconds: 10_000)
        )
        #expect(released.status == 200)
        let generation = try await call.value
        #expect(generation.images.count == 1)
        #expect(generation.usage?.outputTokens == 272)
        #expect(drafts.withLock { $0 } == [0, 1])
    }

    @Test("a hanging provider is cut off at the client's timeout and is retryable")
    func hangTimesOut() async throws {
        var plan = FaultPlan()
        plan.rates = [.hang: 1]
        plan.hangSeconds = 600
        let (client, stop) = try await provider(plan, timeoutMilliseconds: 300)
        defer { stop() }
        let started = ContinuousClock.now
        let failure = await failure { () async throws(ProviderFailure) in try await client.generate(request, acceptsResponseFormat: true) }
        #expect(failure?.code == "provider_timeout")
        #expect(failure?.isRetryable == true)
        // The client's timeout, not the 600 s hang, ends the call; the bound is a liveness guard.
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test("a wrong key, an unknown model and a refused parameter are final")
    func finalAnswers() async throws {
        let (wrongKey, stopWrongKey) = try await provider(FaultPlan(), apiKey: "sk-right", clientKey: "sk-wrong")
        defer { stopWrongKey() }
        let auth = await failure { () async throws(ProviderFailure) in try await wrongKey.generate(request, acceptsResponseFormat: true) }
        #expect(auth?.code == "provider_auth_failed")
        #expect(auth?.isRetryable == false)
        #expect(auth?.message.contains("sk-wrong") == false)

        let (client, stop) = try await provider(FaultPlan())
        defer { stop() }
        var retired = request
        retired.model = "dall-e-1"
        let missing = await failure { () async throws(ProviderFailure) in try await client.generate(retired, acceptsResponseFormat: true) }
        #expect(missing?.code == "model_not_found")

        var gptImage = request
        gptImage.model = "gpt-image-1"
        gptImage.size = "1024x1024"
        gptImage.quality = "high"
        let refused = await failure { () async throws(ProviderFailure) in try await client.generate(gptImage, acceptsResponseFormat: true) }
        #expect(refused?.code == "invalid_request")
        let generation = try await client.generate(gptImage, acceptsResponseFormat: false)
        #expect(generation.images.count == 1)
        // "a kite" is 2 text tokens to the mock; a high-quality square image is 4160 output tokens.
        #expect(generation.usage == TokenUsage(textInputTokens: 2, imageInputTokens: 0, outputTokens: 4160))
    }

    @Test("a body past the cap, streamed without a length, fails as response_too_large and is not retried")
    func bodyTooLarge() async throws {
        var plan = FaultPlan()
        plan.rates = [.hugeBody: 1]
        let (client, stop) = try await provider(plan, maxResponseBytes: 4 << 20)
        defer { stop() }
        let failure = await failure { () async throws(ProviderFailure) in try await client.generate(request, acceptsResponseFormat: true) }
        #expect(failure?.code == "response_too_large")
        #expect(failure?.isRetryable == false)
        #expect(failure?.providerMayHaveBilled == true)
    }

    @Test("more images than asked keep the number asked; negative token counts are a final malformed answer")
    func countsFromTheProvider() async throws {
        var extra = FaultPlan()
        extra.rates = [.extraImages: 1]
        let (generous, stopGenerous) = try await provider(extra)
        defer { stopGenerous() }
        var two = request
        two.model = "dall-e-2"
        two.size = "256x256"
        two.n = 2
        #expect(try await generous.generate(two, acceptsResponseFormat: true).images.count == 2)

        var negative = FaultPlan()
        negative.rates = [.negativeTokens: 1]
        let (broken, stopBroken) = try await provider(negative)
        defer { stopBroken() }
        let failure = await failure { () async throws(ProviderFailure) in try await broken.generate(request, acceptsResponseFormat: true) }
        #expect(failure?.code == "malformed_response")
        #expect(failure?.isRetryable == false)
    }

    @Test("nothing listening is a retryable connection failure")
    func unreachable() async throws {
        let client = OpenAIImagesProvider(client: CurlMultiClient(), baseURL: "http://127.0.0.1:1/v1", apiKeys: ["k"], timeoutMilliseconds: 2_000)
        let failure = await failure { () async throws(ProviderFailure) in try await client.generate(request, acceptsResponseFormat: true) }
        #expect(failure?.code == "provider_unreachable")
        #expect(failure?.isRetryable == true)
    }
}

extension OpenAIImagesProvider {
    /// A call with the provider's first key, as the gate would pick with one key.
    fileprivate func generate(_ request: ImageRequest, acceptsResponseFormat: Bool) async throws(ProviderFailure) -> Generation {
        try await generate(request, acceptsResponseFormat: acceptsResponseFormat, keyID: keyIDs[0])
    }
}
