import HTTPTypes
import Hummingbird

/// The API's routes: each path, the methods it accepts, who may call it and its handler.
///
/// Hummingbird answers 404 for a known path asked with the wrong method; the table lets
/// the error middleware answer 405 with `Allow` instead, and lets tests compare the
/// routes with the OpenAPI document.
public struct RouteTable: Sendable {
    public typealias Handler = @Sendable (Request, APIRequestContext) async throws -> Response

    /// Who may call a route: anyone, or only a request with a live API key.
    public enum Access: Sendable {
        case open
        case authenticated
    }

    public struct Route: Sendable {
        public let method: HTTPRequest.Method
        /// As Hummingbird spells it, e.g. `images/tasks/:id/status`.
        public let path: String
        public let access: Access
        /// Puts this route's own middleware (e.g. the submission rate limit) on the group it joins.
        let middleware: (@Sendable (RouterGroup<APIRequestContext>) -> RouterGroup<APIRequestContext>)?
        let handler: Handler?

        /// As OpenAPI spells it, e.g. `/images/tasks/{id}/status`.
        public var openAPIPath: String {
            "/" + path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        }
    }

    public private(set) var routes: [Route] = []

    /// Adds a route only a request with a live API key reaches.
    mutating func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        routes.append(Route(method: method, path: path, access: .authenticated, middleware: nil, handler: handler))
    }

    /// Adds a route only a request with a live API key reaches, with `middleware` for it alone, after authentication.
    mutating func add(
        _ method: HTTPRequest.Method, _ path: String, middleware: some RouterMiddleware<APIRequestContext>, _ handler: @escaping Handler
    ) {
        routes.append(Route(
            method: method, path: path, access: .authenticated, middleware: { $0.group().add(middleware: middleware) }, handler: handler
        ))
    }

    /// Adds a route anyone may call.
    mutating func addOpen(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        routes.append(Route(method: method, path: path, access: .open, middleware: nil, handler: handler))
    }

    /// Records a route that something else registers, so that it too answers 405.
    mutating func note(_ method: HTTPRequest.Method, _ path: String) {
        routes.append(Route(method: method, path: path, access: .open, middleware: nil, handler: nil))
    }

    /// Registers every handled route: open ones on the router, the rest on one group behind `authentication`.
    func register(on router: Router<APIRequestContext>, authentication: AuthenticationMiddleware) {
        let authenticated = router.group().add(middleware: authentication)
        for route in routes {
            guard let handler = route.handler else { continue }
            switch route.access {
            case .open:
                router.on(RouterPath(route.path), method: route.method, use: handler)
            case .authenticated:
                let group = route.middleware?(authenticated) ?? authenticated
                group.on(RouterPath(route.path), method: route.method, use: handler)
            }
        }
    }

    /// The methods a request path accepts; empty when no route has that path.
    func methods(forRequestPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "?", maxSplits: 1).first?.split(separator: "/") ?? []
        return routes.filter { route in
            let pattern = route.path.split(separator: "/")
            return pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }.map(\.method)
    }
}
