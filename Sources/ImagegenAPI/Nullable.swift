/// An optional member that encodes as `null` instead of being left out, for members a
/// client should always find (`limit_usd`, `next_cursor`, `refused_by`).
///
/// The generator writes a missing optional by leaving the member out, and drops a `oneOf`
/// with `null`, so the schemas with such members (`TaskList`, `Estimate`, `SpendPeriod`,
/// `ImagePeriod`) are typed by hand with this (openapi-generator-config.yaml).
struct Nullable<Wrapped: Codable & Hashable & Sendable>: Codable, Hashable, Sendable {
    let value: Wrapped?

    init(_ value: Wrapped?) {
        self.value = value
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        value = container.decodeNil() ? nil : try container.decode(Wrapped.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}
