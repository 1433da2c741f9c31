import Hummingbird
import ImagegenStore

/// Lets a request through only with a live API key as `Authorization: Bearer`, and makes its
/// user the `AuthenticatedUser` of the handlers behind it. Every request looks its key up, so
/// a revoked key stops working with the next request.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let users: UserStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError.unauthorized
        }
        let secret = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let holder = try await users.authenticate(secret: secret) else { throw APIError.unauthorized }
        return try await AuthenticatedUser.$id.withValue(holder.userID) {
            try await AuthenticatedUser.$isAdmin.withValue(holder.isAdmin) {
                try await next(request, context)
            }
        }
    }
}
