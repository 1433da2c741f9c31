import Hummingbird
import Logging
import NIOCore
import ImagegenStore

/// Gives every failure the same JSON error shape: framework errors (unknown route,
/// body too large) and unexpected ones, which are logged but never shown to clients.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(forRequestPath: request.uri.path)
            guard !allowed.isEmpty else { throw APIError(.notFound, code: "not_found", message: "no such route") }
            let names = allowed.map(\.rawValue).joined(separator: ", ")
            throw APIError(
                .methodNotAllowed, code: "method_not_allowed", message: "\(request.method.rawValue) is not allowed here; use \(names)",
                headers: [.allow: names]
            )
        } catch let error as HTTPError {
            throw APIError(error.status, code: "http_\(error.status.code)", message: error.body ?? error.status.reasonPhrase)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "the request body is over \(APIServer.maxBodyBytes) bytes")
        } catch where Database.isUnavailable(error) {
            context.logger.error("PostgreSQL unavailable: \(error)")
            throw APIError(.serviceUnavailable, code: "storage_unavailable", message: "the task store is unavailable; try again shortly")
        } catch {
            context.logger.error("request failed: \(error)")
            throw APIError(.internalServerError, code: "internal_error", message: "the server failed to handle the request")
        }
    }
}
