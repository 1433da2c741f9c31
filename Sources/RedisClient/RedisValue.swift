/// One reply from Redis, copied out of hiredis' reply object.
public enum RedisValue: Sendable, Equatable {
    case string([UInt8])
    case integer(Int64)
    case array([RedisValue])
    case status(String)
    case null

    public var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        case .integer(let value): String(value)
        default: nil
        }
    }

    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .string, .status: text.flatMap { Int64($0) }
        default: nil
        }
    }

    public var array: [RedisValue] {
        if case .array(let values) = self { return values }
        return []
    }
}
