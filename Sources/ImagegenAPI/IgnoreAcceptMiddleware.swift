import HTTPTypes
import OpenAPIRuntime

/// Drops the request's `Accept` header before the generated code sees it. Each answer of this
/// API has one media type, so `Accept` cannot change what is sent, and clients (browsers
/// above all) send values like `text/html` that the generated code would refuse with a 500
/// after the handler already did its work.
struct IgnoreAcceptMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.accept] = nil
        return try await next(request, body, metadata)
    }
}
