import HTTPTypes
import Hummingbird

/// The API's routes: each path, the methods it accepts and their handlers.
///
/// Hummingbird answers 404 for a known path asked with the wrong method; the table lets
/// the error middleware answer 405 with `Allow` instead, and lets tests compare the
/// routes with the OpenAPI document.
public struct RouteTable: Sendable {
    public typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    public struct Route: Sendable {
        public let method: HTTPRequest.Method
        /// As Hummingbird spells it, e.g. `images/tasks/:id/status`.
        public let path: String
        let handler: Handler?

        /// As OpenAPI spells it, e.g. `/images/tasks/{id}/status`.
        public var openAPIPath: String {
            "/" + path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        }
    }

    public private(set) var routes: [Route] = []

    mutating func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        routes.append(Route(method: method, path: path, handler: handler))
    }

    /// Records a route that something else registers, so that it too answers 405.
    mutating func note(_ method: HTTPRequest.Method, _ path: String) {
        routes.append(Route(method: method, path: path, handler: nil))
    }

    func register(on router: Router<BasicRequestContext>) {
        for route in routes {
            guard let handler = route.handler else { continue }
            router.on(RouterPath(route.path), method: route.method, use: handler)
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
