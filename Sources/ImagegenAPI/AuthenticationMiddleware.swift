import Hummingbird
import ImagegenCore
import ImagegenStore

/// Lets a request through only with a live API key as `Authorization: Bearer`, and makes its
/// user the `AuthenticatedUser` of the handlers behind it.
///
/// A key is looked up at most once per `keyRecheckInterval`: a client polling and submitting
/// under one key would otherwise pay a query per request, the busiest statement there was. So
/// a revoked key stops working within that interval.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    static var keyRecheckInterval: Duration { .seconds(1) }

    let users: UserStore
    /// The holders of the keys checked within `keyRecheckInterval`, by key digest; unknown and
    /// revoked keys are never kept, so each of them costs a lookup.
    let recentKeys = RecentValues<[UInt8], KeyHolder>(maxAge: keyRecheckInterval, capacity: 10_000)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let key = APIKey(presented: String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces))
        else {
            throw APIError.unauthorized
        }
        let holder = try await holder(of: key)
        return try await AuthenticatedUser.$id.withValue(holder.userID) {
            try await AuthenticatedUser.$isAdmin.withValue(holder.isAdmin) {
                try await next(request, context)
            }
        }
    }

    private func holder(of key: APIKey) async throws -> KeyHolder {
        let digest = key.digest
        if let recent = recentKeys.value(for: digest) { return recent }
        let checkedAt = ContinuousClock.now
        guard let holder = try await users.authenticate(key) else { throw APIError.unauthorized }
        recentKeys.store(holder, for: digest, fetchedAt: checkedAt)
        return holder
    }
}
