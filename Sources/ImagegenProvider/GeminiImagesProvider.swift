import CurlClient
import Foundation
import ImagegenCore

/// Google's Gemini image models (`POST {base}/models/{model}:generateContent`, key in
/// `x-goog-api-key`) over libcurl. `baseURL` is e.g.
/// `https://generativelanguage.googleapis.com/v1beta`.
///
/// One call makes one image; a request for `n` images is `n` calls' worth of a model whose
/// rules say `n` is 1. The answer's `inlineData` parts are the images, `usageMetadata` the
/// tokens; a safety block comes as 200 with `finishReason: IMAGE_SAFETY` and no image, and a
/// quota refusal as 429 `RESOURCE_EXHAUSTED` with the wait in `RetryInfo.retryDelay`.
public struct GeminiImagesProvider: ImageProvider {
    private let transport: ProviderTransport
    private let base: String
    public var keyIDs: [String] { transport.keyIDs }

    public init(
        client: CurlMultiClient, baseURL: String, apiKeys: [String], timeoutMilliseconds: Int, maxResponseBytes: Int = 64 << 20,
        longestRetryAfterMilliseconds: Int64 = 600_000
    ) {
        transport = ProviderTransport(
            client: client, apiKeys: apiKeys, timeoutMilliseconds: timeoutMilliseconds, maxResponseBytes: maxResponseBytes,
            longestRetryAfterMilliseconds: longestRetryAfterMilliseconds
        )
        base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    public func generate(
        _ request: ImageRequest, acceptsResponseFormat: Bool, keyID: String, progress: @escaping @Sendable (ProviderProgress) async -> Void
    ) async throws(ProviderFailure) -> Generation {
        let apiKey = try transport.secret(keyID)
        let model = request.model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? request.model
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(ContentRequest(prompt: request.prompt)))
        } catch {
            throw ProviderFailure(code: "invalid_request", message: "cannot encode the request: \(error)", isRetryable: false)
        }
        let response = try await transport.send(
            "POST", "\(base)/models/\(model):generateContent",
            headers: [("x-goog-api-key", apiKey), ("Content-Type", "application/json"), ("Accept", "application/json")], body: body
        )
        guard response.status == 200 else {
            let error = (try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)))?.error
            // A key Gemini does not know is a 400 INVALID_ARGUMENT whose reason says so: an auth failure.
            let keyRejected = error?.details?.contains { $0.reason == "API_KEY_INVALID" } == true
            throw ProviderFailure.classify(
                status: keyRejected ? 401 : response.status,
                // Gemini names its errors by gRPC status (RESOURCE_EXHAUSTED, UNAVAILABLE, ...); the HTTP status classifies them.
                errorCode: error?.status,
                message: error?.message,
                retryAfterMilliseconds: error?.retryDelayMilliseconds(longest: transport.longestRetryAfterMilliseconds)
                    ?? RetryAfter.milliseconds(in: response.headers, longest: transport.longestRetryAfterMilliseconds)
            )
        }
        return try Self.generation(in: response.body)
    }

    static func generation(in body: [UInt8]) throws(ProviderFailure) -> Generation {
        guard let decoded = try? JSONDecoder().decode(ContentResponse.self, from: Data(body)) else {
            throw ProviderFailure(
                code: "malformed_response", message: "the provider's answer is not Gemini's JSON", isRetryable: true, providerMayHaveBilled: true
            )
        }
        let parts = decoded.candidates?.first?.content?.parts ?? []
        var images: [GeneratedImage] = []
        for part in parts {
            guard let inline = part.inlineData else { continue }
            images.append(try GeneratedImage(base64: inline.data, index: images.count, revisedPrompt: nil))
        }
        let reason = decoded.candidates?.first?.finishReason ?? decoded.promptFeedback?.blockReason
        if images.isEmpty {
            if let reason, ["IMAGE_SAFETY", "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "IMAGE_PROHIBITED_CONTENT"].contains(reason) {
                // The categories that blocked it, when Gemini names them.
                let categories = (decoded.candidates?.first?.safetyRatings ?? []).filter { $0.blocked == true }.compactMap(\.category)
                throw ProviderFailure(
                    code: "content_policy_violation",
                    message: "the provider's safety system rejected the prompt (\(([reason] + categories).joined(separator: ": ")))",
                    isRetryable: false
                )
            }
            throw ProviderFailure(
                code: "malformed_response", message: "the provider answered without an image" + (reason.map { " (\($0))" } ?? ""),
                isRetryable: true, providerMayHaveBilled: true
            )
        }
        guard let metadata = decoded.usageMetadata else { return Generation(images: images, usage: nil) }
        try TokenUsage.checkReported([metadata.promptTokenCount, metadata.candidatesTokenCount])
        let usage = TokenUsage(
            textInputTokens: metadata.promptTokenCount ?? 0, imageInputTokens: 0, outputTokens: metadata.candidatesTokenCount ?? 0
        )
        return Generation(images: images, usage: usage)
    }
}

private struct ContentRequest: Encodable {
    struct Content: Encodable {
        struct Part: Encodable { let text: String }
        let parts: [Part]
    }

    struct GenerationConfig: Encodable {
        let responseModalities = ["TEXT", "IMAGE"]
    }

    let contents: [Content]
    let generationConfig = GenerationConfig()

    init(prompt: String) {
        contents = [Content(parts: [.init(text: prompt)])]
    }
}

private struct ContentResponse: Decodable {
    struct Candidate: Decodable {
        struct Content: Decodable {
            struct Part: Decodable {
                struct InlineData: Decodable {
                    let mimeType: String?
                    let data: String?
                }

                let inlineData: InlineData?
            }

            let parts: [Part]?
        }

        struct SafetyRating: Decodable {
            let category: String?
            let blocked: Bool?
        }

        let content: Content?
        let finishReason: String?
        let safetyRatings: [SafetyRating]?
    }

    struct PromptFeedback: Decodable { let blockReason: String? }

    struct UsageMetadata: Decodable {
        let promptTokenCount: Int64?
        let candidatesTokenCount: Int64?
    }

    let candidates: [Candidate]?
    let promptFeedback: PromptFeedback?
    let usageMetadata: UsageMetadata?
}

private struct ErrorEnvelope: Decodable {
    struct Body: Decodable {
        struct Detail: Decodable {
            let type: String?
            let retryDelay: String?
            let reason: String?

            enum CodingKeys: String, CodingKey {
                case type = "@type"
                case retryDelay
                case reason
            }
        }

        let message: String?
        let status: String?
        let details: [Detail]?

        /// `RetryInfo.retryDelay`, e.g. "55s" or "1.5s", bounded by `longest`.
        func retryDelayMilliseconds(longest: Int64) -> Int64? {
            guard let text = details?.first(where: { $0.type?.hasSuffix("google.rpc.RetryInfo") == true })?.retryDelay,
                  text.hasSuffix("s"), let seconds = Double(text.dropLast()), seconds.isFinite, seconds >= 0 else { return nil }
            return Int64(min((seconds * 1000).rounded(.up), Double(longest)))
        }
    }

    let error: Body
}
