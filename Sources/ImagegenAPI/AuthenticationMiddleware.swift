import Hummingbird
import ImagegenStore

/// Lets a request through only with a live API key as `Authorization: Bearer`, and puts its
/// user in the request context. Every request looks its key up, so a revoked key stops
/// working with the next request.
struct AuthenticationMiddleware: RouterMiddleware {
    let users: UserStore

    func handle(
        _ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError.unauthorized
        }
        let secret = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let userID = try await users.authenticate(secret: secret) else { throw APIError.unauthorized }
        var context = context
        context.authenticatedUser = userID
        return try await next(request, context)
    }
}
