import Foundation
import HTTPTypes
import Hummingbird
import ImagegenCore
import Logging
import NIOCore
import Synchronization

/// The project's stand-in for the image providers' APIs, for local runs and tests.
///
/// It answers `POST /v1/images/generations` with OpenAI's JSON and valid PNGs of
/// the requested size, and injects the faults its `FaultPlan` names. It speaks Azure's,
/// Together's and Gemini's forms of the call too, and Replicate's predictions
/// (`MockProviderServer+replicate.swift`). `GET /_mock/stats`
/// counts requests by outcome; `GET /_mock/keys` counts requests, images served and
/// refusals per key fingerprint (`during_pause`: calls that came while a `Retry-After` the
/// mock had sent that key was still running); with `recordCalls`, `GET /_mock/calls` counts calls and
/// images served per prompt, so a test can tell how often each task was paid for.
/// `POST /_mock/release` lets every call held by a `[mock:hold]` directive answer, now and from
/// then on, and ends an `outageUntilReleased`.
public final class MockProviderServer: Sendable {
    public static let knownModels = ["dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-2"]

    let plan: FaultPlan
    let apiKey: String?
    private let imageBytes: Int
    private let recordCalls: Bool
    let state: Mutex<State>

    struct State {
        var random: SplitMix64
        var callsByPrompt: [String: Int] = [:]
        var outcomes: [String: Int] = [:]
        var encodedImages: [String: String] = [:]
        var recorded: [String: PromptCalls] = [:]
        var buckets: [String: KeyBucket] = [:]
        var keyCounts: [String: [String: Int]] = [:]
        var callsByKey: [String: Int] = [:]
        var pausedUntil: [String: ContinuousClock.Instant] = [:]
        var firstRequest: ContinuousClock.Instant?
        var released = false
        /// How many times a test posted `/_mock/release`: queued predictions move on one state per release.
        var releases = 0
        var predictions: [String: MockPrediction] = [:]
    }

    struct KeyBucket {
        var tokens: Double
        var refilledAt: ContinuousClock.Instant
    }

    struct PromptCalls {
        var calls = 0
        var served = 0
    }

    /// - Parameters:
    ///   - apiKey: when set, requests must carry it; otherwise any bearer key passes.
    ///   - imageBytes: pad every PNG to at least this many bytes.
    ///   - recordCalls: keep per-prompt counts for `GET /_mock/calls` (memory grows with distinct prompts).
    public init(plan: FaultPlan, apiKey: String? = nil, imageBytes: Int = 0, recordCalls: Bool = false) {
        self.plan = plan
        self.apiKey = apiKey
        self.imageBytes = imageBytes
        self.recordCalls = recordCalls
        self.state = Mutex(State(random: SplitMix64(seed: plan.seed)))
    }

    public func makeApplication(
        host: String, port: Int, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.post("v1/images/generations") { request, _ in try await self.generate(request, azureDeployment: nil) }
        // Gemini's generateContent: POST /v1beta/models/{model}:generateContent.
        router.post("v1beta/models/*") { request, _ in try await self.generateGemini(request) }
        // Azure OpenAI's form of the same call: the deployment names the model.
        router.post("openai/deployments/{deployment}/images/generations") { request, context in
            try await self.generate(request, azureDeployment: context.parameters.get("deployment") ?? "")
        }
        addReplicateRoutes(to: router)
        router.get("_mock/stats") { _, _ in self.stats() }
        router.get("_mock/calls") { _, _ in self.calls() }
        router.get("_mock/keys") { _, _ in self.keys() }
        router.post("_mock/release") { _, _ in
            self.state.withLock { state in
                state.released = true
                state.releases += 1
            }
            return self.raw(200, "{}")
        }
        return Application(
            router: router,
            // A worker's wave of a thousand calls connects at once: with the default 256 pending
            // connections the rest are dropped and come back a second later, a delay no provider's
            // front end adds. The kernel's somaxconn still caps it.
            configuration: .init(address: .hostname(host, port: port), serverName: "imagegen-mock-provider", backlog: 4096),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    /// Gemini's form of a call: the key in `x-goog-api-key`, the model in the path, the prompt
    /// in `contents`, the image as an `inlineData` part with `usageMetadata`. A safety refusal
    /// is a 200 with `finishReason: IMAGE_SAFETY`, a rate limit a 429 `RESOURCE_EXHAUSTED`
    /// with `RetryInfo`; of the other faults, 500 and 503 are served, the rest answer normally.
    private func generateGemini(_ request: Request) async throws -> Response {
        func googleError(_ status: Int, _ name: String, _ message: String, details: [[String: Any]] = []) -> Response {
            let body: [String: Any] = ["error": ["code": status, "message": message, "status": name, "details": details]]
            return raw(status, String(decoding: (try? JSONSerialization.data(withJSONObject: body)) ?? Data(), as: UTF8.self))
        }
        guard let key = request.headers[HTTPField.Name("x-goog-api-key")!], !key.isEmpty, apiKey == nil || key == apiKey else {
            let reason: [String: Any] = ["@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"]
            return googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", details: [reason])
        }
        let call = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        let pieces = call.split(separator: ":", maxSplits: 1).map(String.init)
        guard pieces.count == 2, pieces[1] == "generateContent", pieces[0].hasPrefix("gemini-") else {
            return googleError(404, "NOT_FOUND", "models/\(pieces.first ?? call) is not found for API version v1beta.")
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              let contents = json["contents"] as? [[String: Any]], let parts = contents.first?["parts"] as? [[String: Any]],
              let prompt = parts.first?["text"] as? String else {
            return googleError(400, "INVALID_ARGUMENT", "contents[0].parts[0].text is required")
        }
        let (fault, delay) = decide(prompt: prompt)
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        record(fault?.rawValue ?? "ok", prompt: prompt, served: fault?.isBilled ?? true)
        count("requests", key: key)
        switch fault {
        case .rateLimited:
            let retry: [String: Any] = ["@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "\(plan.retryAfterSeconds)s"]
            return googleError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", details: [retry])
        case .serverError:
            return googleError(500, "INTERNAL", "An internal error has occurred.")
        case .overloaded:
            return googleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
        case .contentPolicy, .moderationBlocked:
            return raw(200, """
                {"candidates": [{"content": {"parts": []}, "finishReason": "IMAGE_SAFETY", "safetyRatings": [\
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}, \
                {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]}], "usageMetadata": {"promptTokenCount": 7}}
                """)
        default:
            count("images", key: key, by: 1)
            let image = encodedImage(size: "1024x1024", format: "png")
            let input = Self.textTokens(in: prompt)
            return raw(200, """
                {"candidates": [{"content": {"role": "model", "parts": [{"text": "Here is your image."}, \
                {"inlineData": {"mimeType": "image/png", "data": "\(image)"}}]}, "finishReason": "STOP"}], \
                "usageMetadata": {"promptTokenCount": \(input), "candidatesTokenCount": 1290, "totalTokenCount": \(input + 1290), \
                "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}]}}
                """)
        }
    }

    /// - Parameter azureDeployment: the deployment of an Azure-style call (`api-key` header,
    ///   `api-version` query, the model named by the deployment); nil for OpenAI's form.
    private func generate(_ request: Request, azureDeployment: String?) async throws -> Response {
        let key: String
        if azureDeployment != nil {
            guard let given = request.headers[HTTPField.Name("api-key")!], !given.isEmpty, apiKey == nil || given == apiKey else {
                return error(
                    401, code: "401", type: "invalid_request_error",
                    message: "Access denied due to invalid subscription key or wrong API endpoint."
                )
            }
            guard request.uri.queryParameters["api-version"].map({ !$0.isEmpty }) == true else {
                return error(404, code: "404", type: "invalid_request_error", message: "Resource not found (no api-version).")
            }
            key = given
        } else {
            let header = request.headers[.authorization] ?? ""
            guard header.hasPrefix("Bearer "), header.count > "Bearer ".count,
                  apiKey == nil || header == "Bearer \(apiKey!)" else {
                return error(401, code: "invalid_api_key", type: "invalid_request_error", message: "Incorrect API key provided.")
            }
            key = String(header.dropFirst("Bearer ".count))
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              let prompt = json["prompt"] as? String else {
            return error(400, code: "invalid_request", type: "invalid_request_error", message: "prompt is required")
        }
        let model = azureDeployment ?? json["model"] as? String ?? "dall-e-2"
        // Together AI's form: width and height instead of size, models named owner/name.
        let width = json["width"] as? Int, height = json["height"] as? Int
        let together = json["size"] == nil && width != nil && height != nil
        guard Self.knownModels.contains(model) || (together && model.split(separator: "/").count == 2) else {
            return error(404, code: "model_not_found", type: "invalid_request_error", message: "The model '\(model)' does not exist.")
        }
        if model.hasPrefix("gpt-image"), json["response_format"] != nil {
            return error(400, code: "unknown_parameter", type: "invalid_request_error", message: "Unknown parameter: 'response_format'.")
        }
        let n = json["n"] as? Int ?? 1
        let size = together ? "\(width ?? 0)x\(height ?? 0)" : json["size"] as? String ?? "1024x1024"
        let quality = json["quality"] as? String ?? "auto"
        let outputFormat = json["output_format"] as? String ?? "png"
        if model.hasPrefix("gpt-image"), !["png", "jpeg", "webp"].contains(outputFormat) {
            return error(400, code: "invalid_value", type: "invalid_request_error", message: "Invalid value for 'output_format'.")
        }
        // Streaming: drafts as `image_generation.partial_image` events, then `image_generation.completed`.
        let streamed = json["stream"] as? Bool == true
        let partialImages = json["partial_images"] as? Int ?? 0
        if streamed, !model.hasPrefix("gpt-image") || n != 1 || !(0...3).contains(partialImages) {
            return error(400, code: "invalid_value", type: "invalid_request_error", message: "stream takes a gpt-image model, n 1 and partial_images 0-3.")
        }
        if model == "gpt-image-2", json["background"] as? String == "transparent" {
            return error(400, code: "invalid_value", type: "invalid_request_error", message: "gpt-image-2 does not support transparent backgrounds.")
        }

        if plan.rejectedKeys.contains(key) {
            count("rejected", key: key)
            return error(401, code: "invalid_api_key", type: "invalid_request_error", message: "Incorrect API key provided.")
        }
        if plan.exhaustedKeys.contains(key) {
            count("insufficient_quota", key: key)
            return error(429, code: "insufficient_quota", type: "insufficient_quota", message: "You exceeded your current quota.")
        }
        if let waitSeconds = rateLimit(key: key, images: n) {
            count("rate_limited", key: key)
            var response = error(429, code: "rate_limit_exceeded", type: "requests", message: "Rate limit reached for images per minute.")
            response.headers[.retryAfter] = String(waitSeconds)
            return response
        }
        var (fault, delay) = decide(prompt: prompt)
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        // Counted on arrival, so that a test sees a held call while it is held.
        record(fault?.rawValue ?? "ok", prompt: prompt, served: fault?.isBilled ?? true)
        // A streamed call held by `[mock:hold]` sends its drafts first and holds its final image.
        if fault == .hold, !streamed {
            let deadline = ContinuousClock.now + .seconds(plan.hangSeconds)
            while !state.withLock({ $0.released }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            fault = nil
        }
        switch fault {
        case .rateLimited, .retryAfterInfinite, .retryAfterHuge:
            var response = error(429, code: "rate_limit_exceeded", type: "requests", message: "Rate limit reached for images per minute.")
            response.headers[.retryAfter] = switch fault {
            case .retryAfterInfinite: "inf"
            case .retryAfterHuge: "1e19"
            default: String(plan.retryAfterSeconds)
            }
            return response
        case .hugeBody:
            // 50 MB of one JSON string, streamed in 1 MB chunks with no Content-Length.
            let chunk = ByteBuffer(repeating: UInt8(ascii: "A"), count: 1 << 20)
            let chunks = [ByteBuffer(string: "{\"created\": 1, \"data\": [{\"b64_json\": \"")]
                + Array(repeating: chunk, count: 50) + [ByteBuffer(string: "\"}]}")]
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody { writer in
                    for chunk in chunks { try await writer.write(chunk) }
                    try await writer.finish(nil)
                }
            )
        case .quota:
            return error(429, code: "insufficient_quota", type: "insufficient_quota", message: "You exceeded your current quota.")
        case .serverError:
            return error(500, code: "server_error", type: "server_error", message: "The server had an error while processing your request.")
        case .overloaded:
            return error(503, code: "server_is_overloaded", type: "server_error", message: "The server is overloaded.")
        case .moderationBlocked:
            return error(
                400, code: "moderation_blocked", type: "image_generation_user_error",
                message: "Your request was rejected by the safety system."
            )
        case .billingHardLimit:
            return error(400, code: "billing_hard_limit_reached", type: "invalid_request_error", message: "Billing hard limit has been reached.")
        case .contentPolicy:
            return error(
                400, code: azureDeployment == nil ? "content_policy_violation" : "contentFilter", type: "image_generation_user_error",
                message: "Your request was rejected as a result of our safety system."
            )
        case .malformed:
            return raw(200, "{\"created\": 1, \"data\": [{\"b64_json\": \"iVBOR")
        case .hang:
            try await Task.sleep(for: .seconds(plan.hangSeconds))
            return error(504, code: "timeout", type: "server_error", message: "hung request released")
        case .badBase64, .hold, .queued, .extraImages, .fewerImages, .negativeTokens, nil:
            let image = fault == .badBase64 ? "!!not base64!!" : encodedImage(size: size, format: outputFormat)
            let asked = max(1, min(n, 10))
            let imageCount = fault == .extraImages ? asked + 10 : fault == .fewerImages ? max(1, asked - 1) : asked
            let revisedPrompt = model == "dall-e-3" ? try Self.json("A detailed rendering of: \(prompt)") : nil
            count("requests", key: key)
            count("images", key: key, by: imageCount)
            var usage: [String: Any]?
            if fault == .negativeTokens {
                usage = ["input_tokens": 12, "output_tokens": -4_000, "total_tokens": -3_988]
            } else if model.hasPrefix("gpt-image") {
                let input = Self.textTokens(in: prompt), output = Self.outputTokens(size: size, quality: quality) * imageCount
                usage = [
                    "input_tokens": input, "output_tokens": output, "total_tokens": input + output,
                    "input_tokens_details": ["text_tokens": input, "image_tokens": 0],
                ]
            }
            if streamed {
                return try streamedAnswer(image: image, partialImages: partialImages, usage: usage ?? [:], holding: fault == .hold)
            }
            // Written by hand around the cached base64 text: serializing a large string costs more
            // CPU than the rest of a call, and the benchmark's "instant provider" should cost little.
            let item = "{\"b64_json\": \"\(image)\"" + (revisedPrompt.map { ", \"revised_prompt\": \($0)" } ?? "") + "}"
            let data = Array(repeating: item, count: imageCount).joined(separator: ", ")
            let usageField = try usage.map { ", \"usage\": \(try Self.json($0))" } ?? ""
            return raw(200, "{\"created\": \(Int(Date().timeIntervalSince1970)), \"data\": [\(data)]\(usageField)}")
        }
    }

    /// OpenAI's streamed answer: `partialImages` drafts, then the image with its usage. With
    /// `holding`, the drafts go at once and the image waits for `POST /_mock/release`, so a
    /// test sees the drafts arrive while the call still runs.
    private func streamedAnswer(image: String, partialImages: Int, usage: [String: Any], holding: Bool) throws -> Response {
        func event(_ type: String, _ fields: String) -> ByteBuffer {
            ByteBuffer(string: "event: \(type)\ndata: {\"type\": \"\(type)\", \(fields)}\n\n")
        }
        let drafts = (0..<partialImages).map { index in
            event("image_generation.partial_image", "\"partial_image_index\": \(index), \"b64_json\": \"\(image)\"")
        }
        let completed = event("image_generation.completed", "\"b64_json\": \"\(image)\", \"usage\": \(try Self.json(usage))")
        let hangSeconds = plan.hangSeconds
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream"],
            body: ResponseBody { writer in
                for draft in drafts { try await writer.write(draft) }
                if holding {
                    let deadline = ContinuousClock.now + .seconds(hangSeconds)
                    while !self.state.withLock({ $0.released }), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                try await writer.write(completed)
                try await writer.finish(nil)
            }
        )
    }

    /// `value` as JSON text.
    private static func json(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed), as: UTF8.self)
    }

    /// About four characters a token, as OpenAI's tokenizers average on English.
    static func textTokens(in prompt: String) -> Int {
        max(1, (prompt.count + 3) / 4)
    }

    /// The output tokens OpenAI documents per gpt-image image: 272, 1056 and 4160 for a low,
    /// medium and high 1024x1024 image, growing with the area (408, 1584 and 6240 at
    /// 1536x1024); `auto` resolves to medium quality and a square image.
    static func outputTokens(size: String, quality: String) -> Int {
        let square = switch quality {
        case "low": 272
        case "high": 4160
        default: 1056
        }
        let parts = size.split(separator: "x").compactMap { Int($0) }
        let (width, height) = parts.count == 2 ? (parts[0], parts[1]) : (1024, 1024)
        return (square * width * height + 1_048_575) / 1_048_576
    }


    func decide(prompt: String) -> (FaultPlan.Fault?, Int) {
        state.withLock { state in
            let call = (state.callsByPrompt[prompt] ?? 0) + 1
            if prompt.contains("[mock:") { state.callsByPrompt[prompt] = call }
            let now = ContinuousClock.now
            let first = state.firstRequest ?? now
            state.firstRequest = first
            if now - first < .milliseconds(plan.outageMilliseconds) { return (.overloaded, 0) }
            if plan.outageUntilReleased, !state.released { return (.overloaded, 0) }
            var delay = plan.latencyMilliseconds
            if plan.latencyJitterMilliseconds > 0 {
                delay += Int(state.random.next() % UInt64(plan.latencyJitterMilliseconds + 1))
            }
            if let directed = FaultPlan.directive(in: prompt, call: call) { return (directed, delay) }
            if prompt.contains("[mock:") { return (nil, delay) }
            let roll = Double(state.random.next() % 1_000_000) / 1_000_000
            var threshold = 0.0
            for fault in FaultPlan.Fault.allCases {
                threshold += plan.rates[fault] ?? 0
                if roll < threshold { return (fault, delay) }
            }
            return (nil, delay)
        }
    }

    /// Counts the key's call and returns the seconds of `Retry-After` if the plan refuses it:
    /// by its number, or because the key's bucket is short of `images`.
    private func rateLimit(key: String, images: Int) -> Int? {
        let now = ContinuousClock.now
        let call = state.withLock { state in
            state.callsByKey[key, default: 0] += 1
            if let until = state.pausedUntil[key], now < until {
                state.keyCounts[SHA256.fingerprint(key), default: [:]]["during_pause", default: 0] += 1
            }
            return state.callsByKey[key]!
        }
        let refusal = plan.rateLimitedCallsPerKey.contains(call) ? plan.retryAfterSeconds : takeFromBucket(of: key, images: images, now: now)
        if let refusal { state.withLock { $0.pausedUntil[key] = now + .seconds(refusal) } }
        return refusal
    }

    /// Takes `images` from the key's bucket, or returns the whole seconds until it could.
    private func takeFromBucket(of key: String, images: Int, now: ContinuousClock.Instant) -> Int? {
        guard plan.imagesPerMinutePerKey > 0 else { return nil }
        let perMillisecond = Double(plan.imagesPerMinutePerKey) / 60_000
        let burst = Double(plan.burstImagesPerKey > 0 ? plan.burstImagesPerKey : max(1, plan.imagesPerMinutePerKey / 6))
        return state.withLock { state in
            var bucket = state.buckets[key] ?? KeyBucket(tokens: burst, refilledAt: now)
            let elapsed = now - bucket.refilledAt
            bucket.tokens = min(burst, bucket.tokens + elapsed.fractionalMilliseconds * perMillisecond)
            bucket.refilledAt = now
            let needed = min(Double(images), burst)
            defer { state.buckets[key] = bucket }
            guard bucket.tokens >= needed else { return max(1, Int(((needed - bucket.tokens) / perMillisecond / 1000).rounded(.up))) }
            bucket.tokens -= Double(images)
            return nil
        }
    }

    func count(_ what: String, key: String, by amount: Int = 1) {
        state.withLock { $0.keyCounts[SHA256.fingerprint(key), default: [:]][what, default: 0] += amount }
    }

    private func keys() -> Response {
        let counts = state.withLock { $0.keyCounts }
        return raw(200, String(decoding: (try? JSONSerialization.data(withJSONObject: counts)) ?? Data(), as: UTF8.self))
    }

    /// The image in base64: a PNG of the requested size, or the fixed JPEG or WebP.
    func encodedImage(size: String, format: String) -> String {
        switch format {
        case "jpeg": return FixedImages.jpeg
        case "webp": return FixedImages.webp
        default: break
        }
        return state.withLock { state in
            if let cached = state.encodedImages[size] { return cached }
            let parts = size.split(separator: "x").compactMap { Int($0) }
            let (width, height) = parts.count == 2 ? (parts[0], parts[1]) : (1024, 1024)
            let encoded = Data(PNGEncoder.image(width: width, height: height, minimumBytes: imageBytes)).base64EncodedString()
            state.encodedImages[size] = encoded
            return encoded
        }
    }

    func record(_ outcome: String, prompt: String, served: Bool) {
        state.withLock { state in
            state.outcomes[outcome, default: 0] += 1
            guard recordCalls else { return }
            state.recorded[prompt, default: PromptCalls()].calls += 1
            if served { state.recorded[prompt, default: PromptCalls()].served += 1 }
        }
    }

    private func calls() -> Response {
        let recorded = state.withLock { $0.recorded }
        let body = recorded.mapValues { ["calls": $0.calls, "served": $0.served] }
        return raw(200, String(decoding: (try? JSONSerialization.data(withJSONObject: body)) ?? Data(), as: UTF8.self))
    }

    private func stats() -> Response {
        let outcomes = state.withLock { $0.outcomes }
        let body: [String: Any] = ["requests": outcomes.values.reduce(0, +), "outcomes": outcomes]
        return raw(200, String(decoding: (try? JSONSerialization.data(withJSONObject: body)) ?? Data(), as: UTF8.self))
    }

    private func error(_ status: Int, code: String, type: String, message: String) -> Response {
        let body: [String: Any] = ["error": ["message": message, "type": type, "param": NSNull(), "code": code]]
        return raw(status, String(decoding: (try? JSONSerialization.data(withJSONObject: body)) ?? Data(), as: UTF8.self))
    }

    func raw(_ status: Int, _ text: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// A small seeded generator, so a fault mix can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
