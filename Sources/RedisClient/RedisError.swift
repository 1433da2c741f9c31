/// A failure talking to Redis.
public struct RedisError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The connection could not be made or broke; the next command reconnects.
        case connection
        /// Redis answered the command with an error reply.
        case reply
        /// REDIS_URL is not a valid `redis://host:port/db` address.
        case invalidURL
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "redis \(kind.rawValue) error: \(message)" }

    /// The script cache was emptied (restart, SCRIPT FLUSH): the caller sends the script body again.
    public var isMissingScript: Bool { kind == .reply && message.hasPrefix("NOSCRIPT") }
}
