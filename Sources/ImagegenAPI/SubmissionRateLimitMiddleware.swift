import HTTPTypes
import OpenAPIRuntime

/// Paces each user's submissions (`SubmissionRateLimiter`) before the body is read; other
/// operations pass untouched. It runs behind `AuthenticationMiddleware`, so the user is known.
struct SubmissionRateLimitMiddleware: ServerMiddleware {
    let limiter: SubmissionRateLimiter

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if operationID == "generateImages" { try await limiter.admit(userID: try AuthenticatedUser.required()) }
        return try await next(request, body, metadata)
    }
}
