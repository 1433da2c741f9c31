import CurlClient
import Foundation
import ImagegenCore

/// The OpenAI Images API (`POST {base}/images/generations`) over libcurl, as OpenAI and
/// compatible servers speak it, or as Azure OpenAI does (`Dialect`).
///
/// For OpenAI, `baseURL` follows the OpenAI SDKs' convention and includes the version path,
/// e.g. `https://api.openai.com/v1`, so any compatible endpoint can be named. For Azure it is
/// the resource's endpoint, e.g. `https://my-resource.openai.azure.com`.
public struct OpenAIImagesProvider: ImageProvider {
    /// How the endpoint is addressed and the key sent; the body and the answer are the same.
    public enum Dialect: Sendable, Equatable {
        /// `POST {base}/images/generations` with `Authorization: Bearer <key>`.
        case openAI
        /// `POST {base}/openai/deployments/{deployment}/images/generations?api-version=...` with
        /// `api-key: <key>`: the deployment, not the body's `model`, picks the model.
        case azure(deployment: String, apiVersion: String)
        /// Together AI: OpenAI's address and answer, but the body gives `width` and `height`
        /// instead of `size` and has no quality or style.
        case together
    }

    private let transport: ProviderTransport
    private let endpoint: String
    private let dialect: Dialect
    public var keyIDs: [String] { transport.keyIDs }

    /// - Parameters:
    ///   - apiKeys: one or more keys for the same endpoint; duplicates count once.
    ///   - maxResponseBytes: a longer answer is cut off and fails as `response_too_large`, so
    ///     that no provider or proxy can fill the worker's memory.
    ///   - longestRetryAfterMilliseconds: the longest `Retry-After` honoured; longer asks are cut to it.
    public init(
        client: CurlMultiClient, baseURL: String, apiKeys: [String], timeoutMilliseconds: Int, maxResponseBytes: Int = 64 << 20,
        longestRetryAfterMilliseconds: Int64 = 600_000, dialect: Dialect = .openAI
    ) {
        self.transport = ProviderTransport(
            client: client, apiKeys: apiKeys, timeoutMilliseconds: timeoutMilliseconds, maxResponseBytes: maxResponseBytes,
            longestRetryAfterMilliseconds: longestRetryAfterMilliseconds
        )
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        switch dialect {
        case .openAI, .together:
            self.endpoint = base + "/images/generations"
        case .azure(let deployment, let apiVersion):
            let path = deployment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? deployment
            let version = apiVersion.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? apiVersion
            self.endpoint = base + "/openai/deployments/\(path)/images/generations?api-version=\(version)"
        }
        self.dialect = dialect
    }

    public func generate(
        _ request: ImageRequest, acceptsResponseFormat: Bool, keyID: String, progress: @escaping @Sendable (ProviderProgress) async -> Void
    ) async throws(ProviderFailure) -> Generation {
        let apiKey = try transport.secret(keyID)
        let body: [UInt8]
        do {
            body = Array(try dialect == .together
                ? JSONEncoder().encode(TogetherBody(request))
                : JSONEncoder().encode(GenerationBody(request, acceptsResponseFormat: acceptsResponseFormat)))
        } catch {
            throw ProviderFailure(code: "invalid_request", message: "cannot encode the request: \(error)", isRetryable: false)
        }
        let response = try await transport.send(
            "POST", endpoint, headers: [dialect.authorization(apiKey), ("Content-Type", "application/json"), ("Accept", "application/json")],
            body: body
        )
        guard response.status == 200 else {
            let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body))
            throw ProviderFailure.classify(
                status: response.status,
                errorCode: envelope?.error.code,
                message: envelope?.error.message,
                retryAfterMilliseconds: RetryAfter.milliseconds(in: response.headers, longest: transport.longestRetryAfterMilliseconds)
            )
        }
        return try Self.generation(in: response.body, requested: request.n)
    }

    /// The images and usage in a success answer. More images than `requested` keep the first
    /// `requested`: we charge for what was asked, and store no more.
    static func generation(in body: [UInt8], requested: Int) throws(ProviderFailure) -> Generation {
        func malformed(_ message: String) -> ProviderFailure {
            ProviderFailure(code: "malformed_response", message: message, isRetryable: true, providerMayHaveBilled: true)
        }
        guard let decoded = try? JSONDecoder().decode(GenerationResponse.self, from: Data(body)), !decoded.data.isEmpty else {
            throw malformed("the provider's answer is not the Images API's JSON")
        }
        if let usage = decoded.usage {
            try TokenUsage.checkReported([
                usage.input_tokens, usage.output_tokens, usage.input_tokens_details?.text_tokens, usage.input_tokens_details?.image_tokens,
            ])
        }
        var images: [GeneratedImage] = []
        for (index, item) in decoded.data.prefix(max(requested, 1)).enumerated() {
            images.append(try GeneratedImage(base64: item.b64_json, index: index, revisedPrompt: item.revised_prompt))
        }
        return Generation(images: images, usage: decoded.usage.map(\.tokenUsage))
    }
}

extension OpenAIImagesProvider.Dialect {
    /// The header that carries the key.
    fileprivate func authorization(_ key: String) -> (String, String) {
        switch self {
        case .openAI, .together: ("Authorization", "Bearer \(key)")
        case .azure: ("api-key", key)
        }
    }
}

private struct GenerationBody: Encodable {
    let prompt: String
    let model: String
    let n: Int
    let size: String
    let quality: String
    let style: String?
    let user: String?
    let response_format: String?
    let background: String?
    let output_format: String?
    let output_compression: Int?
    let moderation: String?

    init(_ request: ImageRequest, acceptsResponseFormat: Bool) {
        prompt = request.prompt
        model = request.model
        n = request.n
        size = request.size
        quality = request.quality
        style = request.style
        user = request.endUser
        response_format = acceptsResponseFormat ? "b64_json" : nil
        background = request.options?.background
        output_format = request.options?.outputFormat
        output_compression = request.options?.outputCompression
        moderation = request.options?.moderation
    }
}

/// Together AI's request: the size as `width` and `height`; its answer is OpenAI's.
private struct TogetherBody: Encodable {
    let prompt: String
    let model: String
    let n: Int
    let width: Int?
    let height: Int?
    let response_format = "b64_json"

    init(_ request: ImageRequest) {
        prompt = request.prompt
        model = request.model
        n = request.n
        let dimensions = ModelSpec.dimensions(request.size)
        width = dimensions?.width
        height = dimensions?.height
    }
}

private struct GenerationResponse: Decodable {
    struct Item: Decodable {
        let b64_json: String?
        let revised_prompt: String?
    }

    /// gpt-image models report the tokens billed; `input_tokens_details` splits the input
    /// into text and image tokens, and input without the split counts as text.
    struct Usage: Decodable {
        struct InputDetails: Decodable {
            let text_tokens: Int64?
            let image_tokens: Int64?
        }

        let input_tokens: Int64?
        let input_tokens_details: InputDetails?
        let output_tokens: Int64?

        var tokenUsage: TokenUsage {
            let input = input_tokens ?? 0
            let image = input_tokens_details?.image_tokens ?? 0
            return TokenUsage(
                textInputTokens: input_tokens_details?.text_tokens ?? max(input - image, 0), imageInputTokens: image,
                outputTokens: output_tokens ?? 0
            )
        }
    }

    let data: [Item]
    let usage: Usage?
}

private struct ErrorEnvelope: Decodable {
    struct Body: Decodable {
        let message: String?
        let code: String?
    }

    let error: Body
}
