import Foundation

/// The user whose API key the request being handled carries, set by `AuthenticationMiddleware`.
///
/// The generated handlers receive only their operation's input, not Hummingbird's request
/// context, so the request's user travels as a task local, which lives exactly as long as
/// the request is handled (the swift-openapi-generator examples pass their user the same way).
enum AuthenticatedUser {
    @TaskLocal static var id: UUID?
    /// Whether the request's key is an admin key, which the operator routes require.
    @TaskLocal static var isAdmin = false

    /// The caller's user id. Every operation sits behind the middleware, so it is always set
    /// there; an operation reached without it answers 401 rather than act for nobody.
    static func required() throws -> UUID {
        guard let id else { throw APIError.unauthorized }
        return id
    }

    /// The caller's user id when the key is an admin key; 403 `admin_required` for any other key.
    static func requiredAdmin() throws -> UUID {
        let id = try required()
        guard isAdmin else {
            throw APIError(.forbidden, code: "admin_required", message: "this route is for operators; use an admin key (imagegen admin keys create --admin)")
        }
        return id
    }
}
