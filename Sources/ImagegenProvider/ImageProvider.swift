import ImagegenCore

/// One image the provider generated, already decoded and checked.
public struct GeneratedImage: Sendable, Equatable {
    public let bytes: [UInt8]
    public let mediaType: String
    public let revisedPrompt: String?
}

/// Generates images for a request. Production talks to any OpenAI-compatible
/// endpoint; tests point the same client at the project's mock provider.
public protocol ImageProvider: Sendable {
    /// - Parameter acceptsResponseFormat: whether the model takes `response_format`.
    func generate(_ request: ImageRequest, acceptsResponseFormat: Bool) async throws(ProviderFailure) -> [GeneratedImage]
}
