import Foundation
import ImagegenCore
import PostgresClient

/// A client account whose API keys submit tasks and whose spend is limited.
public struct User: Sendable, Equatable {
    public let id: UUID
    public let name: String
    /// The user's own limits; unset ones fall back to the configured defaults.
    public let limits: UserLimits
}

/// Users and their API keys.
public struct UserStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Creates a user with a first API key, returned once and stored only as a digest.
    public func createUser(name: String, limits: UserLimits = UserLimits()) async throws -> (User, APIKey) {
        let user = User(id: UUID(), name: name, limits: limits)
        let key = APIKey.generate()
        try await database.transaction { connection in
            try connection.query(
                "INSERT INTO users (id, name, \(UserLimits.columns)) VALUES ($1, $2, $3, $4, $5, $6)",
                [.text(user.id.uuidString), .text(name)] + limits.values
            )
            try connection.query(
                "INSERT INTO api_keys (user_id, key_digest, display_prefix) VALUES ($1, $2, $3)",
                [.text(user.id.uuidString), .bytes(key.digest), .text(key.displayPrefix)]
            )
        }
        return (user, key)
    }

    /// Who a live key speaks for, or nil for an unknown or revoked key.
    ///
    /// The lookup is by digest, so the comparison never touches the secret itself.
    public func authenticate(_ key: APIKey) async throws -> KeyHolder? {
        let rows = try await database.run { connection in
            try connection.query(
                "SELECT user_id, is_admin FROM api_keys WHERE key_digest = $1 AND revoked_at IS NULL",
                [.bytes(key.digest)]
            )
        }
        return try rows.first.flatMap { row in
            try UUID(uuidString: try row.string("user_id")).map { KeyHolder(userID: $0, isAdmin: try row.bool("is_admin")) }
        }
    }

    /// Issues another API key for a user; like the first, it is returned once and stored only
    /// as a digest. An admin key may also use the operator routes.
    public func createKey(userID: UUID, label: String?, isAdmin: Bool = false) async throws -> (APIKeyRecord, APIKey) {
        let key = APIKey.generate()
        let row = try await database.transaction { connection in
            let inserted = try connection.query(
                "INSERT INTO api_keys (user_id, key_digest, display_prefix, label, is_admin) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                [.text(userID.uuidString), .bytes(key.digest), .text(key.displayPrefix), .optional(label), .text(isAdmin ? "true" : "false")]
            )
            return try connection.query(
                "SELECT \(APIKeyRecord.columns) FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1",
                [.int(try inserted.first?.int("id") ?? 0)]
            ).first
        }
        guard let row else { throw PostgresError(.decoding, "the new key's row did not come back") }
        return (try APIKeyRecord(row), key)
    }

    /// Revokes a key, named by its id or its display prefix; it stops working with the next
    /// request, since every request looks its key up. Nil when no live key matches.
    public func revokeKey(_ reference: String) async throws -> APIKeyRecord? {
        let row = try await database.transaction { connection -> PostgresRow? in
            let matches = try connection.query(
                "SELECT id FROM api_keys WHERE (id::text = $1 OR display_prefix = $1) AND revoked_at IS NULL LIMIT 2", [.text(reference)]
            )
            guard matches.count <= 1 else { throw AmbiguousKey(reference: reference) }
            guard let id = try matches.first?.int("id") else { return nil }
            return try connection.query(
                """
                UPDATE api_keys k SET revoked_at = now() FROM users u WHERE k.id = $1 AND u.id = k.user_id
                RETURNING \(APIKeyRecord.columns)
                """,
                [.int(id)]
            ).first
        }
        return try row.map(APIKeyRecord.init)
    }

    /// Every key, or one user's, oldest first; revoked keys included.
    public func keys(userID: UUID?) async throws -> [APIKeyRecord] {
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT \(APIKeyRecord.columns) FROM api_keys k JOIN users u ON u.id = k.user_id
                WHERE $1::uuid IS NULL OR k.user_id = $1::uuid ORDER BY k.id
                """,
                [.optional(userID?.uuidString)]
            )
        }
        return try rows.map(APIKeyRecord.init)
    }

    /// A user named by id or by name; nil when none matches. A name shared by several
    /// users is ambiguous and throws.
    public func find(_ reference: String) async throws -> User? {
        let rows = try await database.run { connection in
            try connection.query(
                """
                SELECT id, name, \(UserLimits.columns) FROM users
                WHERE id::text = lower($1) OR name = $1 LIMIT 2
                """,
                [.text(reference)]
            )
        }
        guard rows.count <= 1 else { throw AmbiguousUser(name: reference) }
        return try rows.first.map { row in
            User(id: UUID(uuidString: try row.string("id"))!, name: try row.string("name"), limits: try UserLimits(row))
        }
    }

    /// Replaces a user's own limits; unset ones fall back to the configured defaults.
    public func setLimits(userID: UUID, _ limits: UserLimits) async throws {
        try await database.run { connection in
            try connection.query(
                """
                UPDATE users SET daily_limit_micro_usd = $2, monthly_limit_micro_usd = $3, hourly_image_limit = $4,
                                 daily_image_limit = $5
                WHERE id = $1
                """,
                [.text(userID.uuidString)] + limits.values
            )
        }
    }

    /// Whether the user's tasks fall back to another route of their tier when a request does not say.
    public func setFallback(userID: UUID, _ fallback: Bool) async throws {
        try await database.run { connection in
            try connection.query("UPDATE users SET fallback = $2 WHERE id = $1", [.text(userID.uuidString), .text(fallback ? "true" : "false")])
        }
    }
}

/// An API key as operators see it: never the secret, only its first characters.
public struct APIKeyRecord: Sendable, Equatable {
    public let id: Int64
    public let userID: UUID
    public let userName: String
    public let displayPrefix: String
    public let label: String?
    public let createdAt: String
    public let revokedAt: String?
    /// Whether the key may use the operator routes.
    public let isAdmin: Bool

    static let columns = """
        k.id, k.user_id, u.name AS user_name, k.display_prefix, k.label, \(rfc3339("k.created_at")) AS created_at,
        \(rfc3339("k.revoked_at")) AS revoked_at, k.is_admin
        """

    init(_ row: PostgresRow) throws {
        guard let userID = UUID(uuidString: try row.string("user_id")) else { throw PostgresError(.decoding, "bad user id") }
        self.id = try row.int("id")
        self.userID = userID
        self.userName = try row.string("user_name")
        self.displayPrefix = try row.string("display_prefix")
        self.label = try row.optionalString("label")
        self.createdAt = try row.string("created_at")
        self.revokedAt = try row.optionalString("revoked_at")
        self.isAdmin = try row.bool("is_admin")
    }
}

/// Whom an API key speaks for: its user, and whether it may use the operator routes.
public struct KeyHolder: Sendable, Equatable {
    public let userID: UUID
    public let isAdmin: Bool
}

/// A key reference an operator gave matches more than one live key.
public struct AmbiguousKey: Error, CustomStringConvertible {
    public let reference: String
    public var description: String { "more than one live key starts with '\(reference)'; use the key id" }
}

/// More than one user has the name an operator gave.
public struct AmbiguousUser: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "more than one user is named '\(name)'; use the user id" }
}

extension UserLimits {
    /// The `users` columns that hold a user's own limits, in the order of `values`.
    static let columns = "daily_limit_micro_usd, monthly_limit_micro_usd, hourly_image_limit, daily_image_limit"

    var values: [PostgresValue] {
        [dailySpend?.value, monthlySpend?.value, hourlyImages.map(Int64.init), dailyImages.map(Int64.init)].map { $0.map { .int($0) } ?? .null }
    }

    init(_ row: PostgresRow) throws {
        self.init(
            dailySpend: try row.optionalInt("daily_limit_micro_usd").map(MicroDollars.init),
            monthlySpend: try row.optionalInt("monthly_limit_micro_usd").map(MicroDollars.init),
            hourlyImages: try row.optionalInt("hourly_image_limit").map { Int($0) },
            dailyImages: try row.optionalInt("daily_image_limit").map { Int($0) }
        )
    }
}
