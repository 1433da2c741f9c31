import ImagegenCore

/// One image the provider generated, already decoded and checked.
public struct GeneratedImage: Sendable, Equatable {
    public let bytes: [UInt8]
    public let mediaType: String
    public let revisedPrompt: String?
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

/// Generates images for a request. Production talks to any OpenAI-compatible
/// endpoint; tests point the same client at the project's mock provider.
public protocol ImageProvider: Sendable {
    /// The ids (fingerprints) of the keys the provider can be called with; the gate picks one per call.
    var keyIDs: [String] { get }

    /// - Parameters:
    ///   - acceptsResponseFormat: whether the model takes `response_format`.
    ///   - keyID: one of `keyIDs`.
    func generate(_ request: ImageRequest, acceptsResponseFormat: Bool, keyID: String) async throws(ProviderFailure) -> Generation
}
