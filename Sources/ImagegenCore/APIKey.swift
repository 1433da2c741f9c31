/// A client's secret key. Only its SHA-256 digest is ever stored.
public struct APIKey: Sendable {
    public static let prefix = "ig_"

    public let secret: String

    public init(secret: String) {
        self.secret = secret
    }

    /// The key a client presented, or nil when it cannot be one of ours: the wrong prefix,
    /// or too long to be worth hashing.
    public init?(presented secret: String) {
        guard secret.hasPrefix(Self.prefix), secret.count < 200 else { return nil }
        self.init(secret: secret)
    }

    /// A new key with 256 bits from the system's cryptographic random source.
    public static func generate() -> APIKey {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return APIKey(secret: prefix + bytes.hexString)
    }

    public var digest: [UInt8] { SHA256.hash(Array(secret.utf8)) }

    /// The first characters, safe to show in listings and logs.
    public var displayPrefix: String { String(secret.prefix(Self.prefix.count + 6)) }
}

extension Sequence<UInt8> {
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
