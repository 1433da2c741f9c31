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
        // Drafts come as Server-Sent Events while the image is drawn; Together streams none.
        let partialImages = dialect == .together ? 0 : request.options?.partialImages ?? 0
        let body: [UInt8]
        do {
            body = Array(try dialect == .together
                ? JSONEncoder().encode(TogetherBody(request))
                : JSONEncoder().encode(GenerationBody(request, acceptsResponseFormat: acceptsResponseFormat, stream: partialImages > 0)))
        } catch {
            throw ProviderFailure(code: "invalid_request", message: "cannot encode the request: \(error)", isRetryable: false)
        }
        let relay = partialImages > 0 ? PartialImageRelay(progress) : nil
        let response: CurlResponse
        do {
            response = try await transport.send(
                "POST", endpoint,
                headers: [
                    dialect.authorization(apiKey), ("Content-Type", "application/json"),
                    ("Accept", relay == nil ? "application/json" : "text/event-stream"),
                ],
                body: body, onBody: relay?.feed
            )
        } catch {
            await relay?.finish()
            throw error
        }
        await relay?.finish()
        guard response.status == 200 else {
            let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body))
            throw ProviderFailure.classify(
                status: response.status,
                errorCode: envelope?.error.code,
                message: envelope?.error.message,
                retryAfterMilliseconds: RetryAfter.milliseconds(in: response.headers, longest: transport.longestRetryAfterMilliseconds)
            )
        }
        return relay == nil ? try Self.generation(in: response.body, requested: request.n) : try Self.streamedGeneration(in: response.body)
    }

    /// The image and usage of a streamed answer: its `image_generation.completed` event. An
    /// `error` event is the provider's refusal, classified like an error answer.
    static func streamedGeneration(in body: [UInt8]) throws(ProviderFailure) -> Generation {
        var parser = EventStreamParser()
        let events = parser.feed(body + Array("\n\n".utf8))
        for event in events {
            guard let streamed = try? JSONDecoder().decode(StreamedImageEvent.self, from: Data(event.data.utf8)) else { continue }
            if streamed.type == "error" || event.name == "error" {
                throw ProviderFailure.classify(status: 400, errorCode: streamed.error?.code, message: streamed.error?.message, retryAfterMilliseconds: nil)
            }
            guard streamed.type == "image_generation.completed" else { continue }
            if let usage = streamed.usage {
                try TokenUsage.checkReported([
                    usage.input_tokens, usage.output_tokens, usage.input_tokens_details?.text_tokens, usage.input_tokens_details?.image_tokens,
                ])
            }
            let image = try GeneratedImage(base64: streamed.b64_json, index: 0, revisedPrompt: streamed.revised_prompt)
            return Generation(images: [image], usage: streamed.usage?.tokenUsage)
        }
        throw ProviderFailure(
            code: "malformed_response", message: "the provider's stream ended without image_generation.completed", isRetryable: true,
            providerMayHaveBilled: true
        )
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
    let stream: Bool?
    let partial_images: Int?

    init(_ request: ImageRequest, acceptsResponseFormat: Bool, stream: Bool) {
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
        self.stream = stream ? true : nil
        partial_images = stream ? request.options?.partialImages : nil
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

/// One event of a streamed answer: `image_generation.partial_image` (a draft and its
/// `partial_image_index`), `image_generation.completed` (the image and `usage`) or `error`.
private struct StreamedImageEvent: Decodable {
    let type: String?
    let b64_json: String?
    let partial_image_index: Int?
    let revised_prompt: String?
    let usage: GenerationResponse.Usage?
    let error: ErrorEnvelope.Body?
}

/// Hands the drafts of a streamed answer to `progress` as they arrive: curl gives the bytes
/// on its driver thread, which must not wait, so they pass through a stream to a task that
/// parses them and awaits `progress` in order.
private final class PartialImageRelay: Sendable {
    private let pieces: AsyncStream<[UInt8]>.Continuation
    private let reader: Task<Void, Never>

    init(_ progress: @escaping @Sendable (ProviderProgress) async -> Void) {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        pieces = continuation
        reader = Task {
            var parser = EventStreamParser()
            for await piece in stream {
                for event in parser.feed(piece) {
                    guard let streamed = try? JSONDecoder().decode(StreamedImageEvent.self, from: Data(event.data.utf8)),
                          streamed.type == "image_generation.partial_image",
                          let image = try? GeneratedImage(base64: streamed.b64_json, index: streamed.partial_image_index ?? 0, revisedPrompt: nil)
                    else { continue }
                    // A broken draft is skipped: only the final image is charged and kept.
                    await progress(.partialImage(index: streamed.partial_image_index ?? 0, image: image))
                }
            }
        }
    }

    var feed: @Sendable ([UInt8]) -> Void {
        { [pieces] piece in pieces.yield(piece) }
    }

    /// Waits until every draft received has been handed on.
    func finish() async {
        pieces.finish()
        await reader.value
    }
}

private struct ErrorEnvelope: Decodable {
    struct Body: Decodable {
        let message: String?
        let code: String?
    }

    let error: Body
}
