import HTTPTypes
import OpenAPIRuntime
import Synchronization

/// Sends what a handler hands past the generated code, which cannot write it:
/// - a whole answer whose body is not a value to encode at once: JSON written while it is
///   read (the status answer with images inline), or an image of a type the document does not
///   list (an Output's `undocumented` case is answered without its body);
/// - header values as they are: the generated code writes string headers URI-encoded, which
///   turns `Location: /images/tasks/…` into `%2Fimages%2Ftasks…` and breaks `ETag`'s quotes.
/// The handler leaves them in the request's `RawResponse`, and this middleware applies them.
struct RawResponseMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let raw = RawResponse()
        var (response, responseBody) = try await RawResponse.$current.withValue(raw) { try await next(request, body, metadata) }
        let (answer, headers) = raw.taken()
        if let answer { (response, responseBody) = answer }
        for field in headers { response.headerFields[field.name] = field.value }
        return (response, responseBody)
    }
}

/// What a handler sends past the generated code, one per request (`RawResponseMiddleware`).
final class RawResponse: Sendable {
    @TaskLocal static var current: RawResponse?

    private let state = Mutex<(answer: (HTTPResponse, HTTPBody?)?, headers: HTTPFields)>((nil, [:]))

    /// Sends `body` as the request's answer; the operation's Output is then ignored.
    static func send(_ status: HTTPResponse.Status, headers: HTTPFields, body: HTTPBody) {
        slot().state.withLock { $0.answer = (HTTPResponse(status: status, headerFields: headers), body) }
    }

    /// Sends these header values as they are with whatever the operation answers.
    static func add(_ headers: HTTPFields) {
        slot().state.withLock { $0.headers.append(contentsOf: headers) }
    }

    private static func slot() -> RawResponse {
        guard let current else { preconditionFailure("RawResponse used outside RawResponseMiddleware") }
        return current
    }

    fileprivate func taken() -> ((HTTPResponse, HTTPBody?)?, HTTPFields) {
        state.withLock { ($0.answer, $0.headers) }
    }
}
