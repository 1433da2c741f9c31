import Hummingbird
import Logging
import NIOCore
import ImagegenStore
import OpenAPIRuntime

/// Gives every failure the same JSON error shape: the handlers' `APIError`s, parameters the
/// generated code could not read, framework errors (unknown route, wrong method) and
/// unexpected ones, which are logged but never shown to clients.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let document: OpenAPIDocument

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            // The generated code wraps whatever a handler or middleware threw; a failure before
            // the handler ran (no input yet) is the request's, not the server's.
            throw answer(to: error.underlyingError, request: request, context: context, requestFault: error.operationInput == nil ? error.causeDescription : nil)
        } catch {
            throw answer(to: error, request: request, context: context, requestFault: nil)
        }
    }

    private func answer(to error: any Error, request: Request, context: Context, requestFault: String?) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as DecodingError:
            return Self.answer(toUndecodable: error)
        case let error as HTTPError where error.status == .notFound:
            let allowed = document.methods(forRequestPath: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method) else {
                return APIError(.notFound, code: "not_found", message: "no such route")
            }
            let names = allowed.map(\.rawValue).joined(separator: ", ")
            return APIError(
                .methodNotAllowed, code: "method_not_allowed", message: "\(request.method.rawValue) is not allowed here; use \(names)",
                headers: [.allow: names]
            )
        case let error as HTTPError:
            return APIError(error.status, code: "http_\(error.status.code)", message: error.body ?? error.status.reasonPhrase)
        case is NIOTooManyBytesError:
            return .bodyTooLarge
        case _ where Database.isUnavailable(error):
            context.logger.error("PostgreSQL unavailable: \(error)")
            return APIError(.serviceUnavailable, code: "storage_unavailable", message: "the task store is unavailable; try again shortly")
        default:
            if let requestFault {
                return APIError(.badRequest, code: "invalid_request", message: "the request does not match the API: \(requestFault)")
            }
            context.logger.error("request failed: \(error)")
            return APIError(.internalServerError, code: "internal_error", message: "the server failed to handle the request")
        }
    }

    /// A parameter the generated code could not read. `ParameterCheckMiddleware` names the wrong
    /// path and query parameters first, so this is what is left: a header the document types.
    private static func answer(toUndecodable error: DecodingError) -> APIError {
        let context: DecodingError.Context? = switch error {
        case .typeMismatch(_, let found), .valueNotFound(_, let found), .keyNotFound(_, let found), .dataCorrupted(let found): found
        @unknown default: nil
        }
        let field = context?.codingPath.first?.stringValue
        return APIError(
            .badRequest, code: "invalid_parameter",
            message: "\(field ?? "a parameter") could not be read: \(context?.debugDescription ?? "\(error)")", field: field
        )
    }
}
