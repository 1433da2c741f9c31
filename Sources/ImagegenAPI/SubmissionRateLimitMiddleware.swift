import Hummingbird

/// Paces each user's submissions (`SubmissionRateLimiter`) before the body is read. It sits
/// on the submission route, behind `AuthenticationMiddleware`, so the user is known.
struct SubmissionRateLimitMiddleware: RouterMiddleware {
    let limiter: SubmissionRateLimiter

    func handle(
        _ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        try await limiter.admit(userID: try context.userID())
        return try await next(request, context)
    }
}
