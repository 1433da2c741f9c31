import ImagegenCore

/// The body of `POST /images/generate` and `/images/estimate` as the client sent it.
///
/// Which sizes, qualities and styles are allowed, and how many images, depend on the model,
/// and a wrong field must be named in the error with its own code (`ImageRequestValidator`).
/// A generated struct would fail on the first wrong type with a decoding error instead, so
/// the `ImageRequest` schema's type is this one (openapi-generator-config.yaml), which keeps
/// the JSON as sent for the validator.
struct SubmittedImageRequest: Codable, Hashable, Sendable {
    let json: JSONValue

    init(from decoder: any Decoder) throws {
        json = try JSONValue(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}
