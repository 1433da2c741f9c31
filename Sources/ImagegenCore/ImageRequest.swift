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
    /// The gpt-image fields the request gave; nil when it gave none.
    public var options: ImageOptions?
    /// Whether the task may move to another route of its tier when its own is down; nil
    /// leaves it to the user's default.
    public var fallback: Bool?

    public init(
        prompt: String, model: String, size: String, quality: String, style: String?, n: Int, endUser: String?,
        options: ImageOptions? = nil, fallback: Bool? = nil
    ) {
        self.prompt = prompt
        self.model = model
        self.size = size
        self.quality = quality
        self.style = style
        self.n = n
        self.endUser = endUser
        self.options = options
        self.fallback = fallback
    }

    /// The media type the images come back in: the requested `output_format`, PNG otherwise.
    public var mediaType: String {
        switch options?.outputFormat {
        case "jpeg": "image/jpeg"
        case "webp": "image/webp"
        default: "image/png"
        }
    }
}

/// The gpt-image models' own request fields, named as the provider names them. Only those
/// a request gave are set, and only those are sent on.
public struct ImageOptions: Sendable, Equatable, Codable {
    public var background: String?
    public var outputFormat: String?
    /// 0-100, for jpeg and webp.
    public var outputCompression: Int?
    public var moderation: String?
    /// How many partial images the provider streams while it draws (1-3); nil for none.
    public var partialImages: Int?

    enum CodingKeys: String, CodingKey {
        case background
        case outputFormat = "output_format"
        case outputCompression = "output_compression"
        case moderation
        case partialImages = "partial_images"
    }

    public init(
        background: String? = nil, outputFormat: String? = nil, outputCompression: Int? = nil, moderation: String? = nil,
        partialImages: Int? = nil
    ) {
        self.background = background
        self.outputFormat = outputFormat
        self.outputCompression = outputCompression
        self.moderation = moderation
        self.partialImages = partialImages
    }

    /// The options as JSON, for the task's row.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The options a task's row holds.
    public init?(json: String) {
        guard let options = try? JSONDecoder().decode(ImageOptions.self, from: Data(json.utf8)) else { return nil }
        self = options
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
