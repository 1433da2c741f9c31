import Foundation

/// A request for images that has passed validation against its model.
public struct ImageRequest: Sendable, Equatable, Codable {
    public var prompt: String
    public var model: String
    public var size: String
    public var quality: String
    public var style: String?
    public var n: Int
    /// The caller's own end-user id, passed on to the provider for abuse monitoring.
    public var endUser: String?

    public init(prompt: String, model: String, size: String, quality: String, style: String?, n: Int, endUser: String?) {
        self.prompt = prompt
        self.model = model
        self.size = size
        self.quality = quality
        self.style = style
        self.n = n
        self.endUser = endUser
    }
}

extension ImageRequest {
    /// SHA-256 of the request in a canonical form: two requests that mean the same
    /// (fields in another order, defaults spelled out or not) have the same digest.
    public var digest: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return SHA256.hash(Array((try? encoder.encode(self)) ?? Data()))
    }
}
