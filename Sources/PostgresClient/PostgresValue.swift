/// A statement parameter. Every statement is parameterised; values never enter SQL text.
public enum PostgresValue: Sendable {
    case text(String)
    case bytes([UInt8])
    case null

    public static func int(_ value: some BinaryInteger) -> PostgresValue { .text(String(value)) }
    public static func optional(_ value: String?) -> PostgresValue { value.map { .text($0) } ?? .null }
}
