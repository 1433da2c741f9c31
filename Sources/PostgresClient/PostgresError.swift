/// A failure talking to PostgreSQL.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The connection could not be made or broke; the next statement reconnects.
        case connection
        /// The server rejected a statement; `sqlState` says why.
        case statement
        /// A column did not hold the type the caller asked for.
        case decoding
    }

    public let kind: Kind
    public let message: String
    /// The five-character SQLSTATE, when the server sent one.
    public let sqlState: String?

    public init(_ kind: Kind, _ message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String {
        "postgres \(kind.rawValue) error\(sqlState.map { " [\($0)]" } ?? ""): \(message)"
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// The same work may succeed if tried again: the connection broke, or the server gave up
    /// on this try (serialization failure, deadlock, lock or statement timeout).
    public var isTransient: Bool {
        kind == .connection || ["40001", "40P01", "55P03", "57014"].contains(sqlState ?? "")
    }
}
