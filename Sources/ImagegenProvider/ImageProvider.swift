import Foundation
import ImagegenCore

/// One image the provider generated, already decoded and checked.
public struct GeneratedImage: Sendable, Equatable {
    public let bytes: [UInt8]
    public let mediaType: String
    public let revisedPrompt: String?
}

extension GeneratedImage {
    /// The image a provider sent as base64, checked to be a PNG, JPEG or WebP image.
    /// - Parameter index: its place in the answer, for the failure's message.
    init(base64: String?, index: Int, revisedPrompt: String?) throws(ProviderFailure) {
        guard let base64, let data = Data(base64Encoded: base64) else {
            throw ProviderFailure(code: "invalid_image", message: "image \(index) is not valid base64", isRetryable: true, providerMayHaveBilled: true)
        }
        try self.init(bytes: Array(data), index: index, revisedPrompt: revisedPrompt)
    }

    /// The bytes of an image a provider made, checked to be a PNG, JPEG or WebP image.
    init(bytes: [UInt8], index: Int, revisedPrompt: String? = nil) throws(ProviderFailure) {
        guard let image = ImageInspector.inspect(bytes) else {
            throw ProviderFailure(
                code: "invalid_image", message: "image \(index) does not decode to a PNG, JPEG or WebP image", isRetryable: true,
                providerMayHaveBilled: true
            )
        }
        self.init(bytes: bytes, mediaType: image.mediaType, revisedPrompt: revisedPrompt)
    }
}

extension TokenUsage {
    /// The most tokens one call may report in any count; more is a broken answer, not a bill.
    static let mostReported: Int64 = 100_000_000

    /// Refuses token counts no call can have used, for every provider alike. Final: a provider
    /// that bills impossible counts would do it again, and every try is paid.
    static func checkReported(_ counts: [Int64?]) throws(ProviderFailure) {
        guard counts.allSatisfy({ ($0 ?? 0) >= 0 && ($0 ?? 0) <= mostReported }) else {
            throw ProviderFailure(
                code: "malformed_response", message: "the provider reported token counts outside 0...\(mostReported)", isRetryable: false,
                providerMayHaveBilled: true
            )
        }
    }
}

/// What one successful call returned.
public struct Generation: Sendable, Equatable {
    public let images: [GeneratedImage]
    /// The tokens the call was billed for, when the provider reported them (gpt-image models).
    public let usage: TokenUsage?

    public init(images: [GeneratedImage], usage: TokenUsage?) {
        self.images = images
        self.usage = usage
    }
}

/// How far a call has come, as the provider tells it while it works.
public enum ProviderProgress: Sendable, Equatable {
    /// The provider's own state of the call, e.g. Replicate's `starting` or `processing`.
    case status(String)
    /// A draft of the image, streamed while the provider draws it (OpenAI's `partial_images`), 0-based.
    case partialImage(index: Int, image: GeneratedImage)
}

/// Generates images for a request. Production talks to a provider's API; tests point the
/// same clients at the project's mock provider.
public protocol ImageProvider: Sendable {
    /// The ids (fingerprints) of the keys the provider can be called with; the gate picks one per call.
    var keyIDs: [String] { get }

    /// - Parameters:
    ///   - acceptsResponseFormat: whether the model takes `response_format`.
    ///   - keyID: one of `keyIDs`.
    ///   - progress: told each change the provider reports before the call ends; awaited, so
    ///     changes arrive in order.
    func generate(
        _ request: ImageRequest, acceptsResponseFormat: Bool, keyID: String, progress: @escaping @Sendable (ProviderProgress) async -> Void
    ) async throws(ProviderFailure) -> Generation
}

extension ImageProvider {
    /// A call whose progress nobody follows.
    public func generate(_ request: ImageRequest, acceptsResponseFormat: Bool, keyID: String) async throws(ProviderFailure) -> Generation {
        try await generate(request, acceptsResponseFormat: acceptsResponseFormat, keyID: keyID, progress: { _ in })
    }
}
