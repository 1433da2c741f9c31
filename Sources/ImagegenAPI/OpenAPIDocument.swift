import Foundation
import HTTPTypes
import Hummingbird

/// The checked-in `openapi.json`: the generator's input at build time, and at run time the
/// bytes `/openapi.json` serves as they are, the methods each path accepts (for 405 answers)
/// and which operations take a JSON body.
struct OpenAPIDocument: Sendable {
    struct Route: Sendable {
        let method: HTTPRequest.Method
        /// The path's segments, `{name}` for a parameter.
        let segments: [Substring]
    }

    /// A path or query parameter as the document types it, for `ParameterCheckMiddleware`.
    struct Parameter: Sendable {
        enum Location: String, Sendable {
            case path
            case query
        }

        enum Kind: Sendable {
            case integer(ClosedRange<Int>)
            case oneOf([String])
            case text
        }

        let name: String
        let location: Location
        let kind: Kind
    }

    let bytes: [UInt8]
    let routes: [Route]
    /// The operation ids whose request body is `application/json`.
    let operationsWithJSONBodies: Set<String>
    /// Each operation's path and query parameters, by operation id.
    let parameters: [String: [Parameter]]

    /// The document shipped in the target's resources. Without it the API cannot describe or
    /// route itself: that is a broken build or install (the resource bundle was not copied
    /// beside the binary), not a state to serve from.
    static let shipped: OpenAPIDocument = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            fatalError("openapi.json is missing from the ImagegenAPI resources (\(Bundle.module.bundlePath))")
        }
        do {
            return try OpenAPIDocument(bytes: Array(data))
        } catch {
            fatalError("the shipped openapi.json cannot be read: \(error)")
        }
    }()

    init(bytes: [UInt8]) throws {
        guard let document = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let paths = document["paths"] as? [String: [String: Any]]
        else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "openapi.json has no paths"))
        }
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]] ?? [:]
        self.bytes = bytes
        var routes: [Route] = []
        var operationsWithJSONBodies: Set<String> = []
        var parameters: [String: [Parameter]] = [:]
        for (path, item) in paths {
            for (key, value) in item where Self.methods.contains(key) {
                guard let method = HTTPRequest.Method(key.uppercased()), let operation = value as? [String: Any] else { continue }
                routes.append(Route(method: method, segments: path.split(separator: "/")))
                guard let id = operation["operationId"] as? String else { continue }
                let content = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any]
                if content?["application/json"] != nil { operationsWithJSONBodies.insert(id) }
                parameters[id] = (operation["parameters"] as? [[String: Any]] ?? []).compactMap { Self.parameter($0, schemas: schemas) }
            }
        }
        self.routes = routes
        self.operationsWithJSONBodies = operationsWithJSONBodies
        self.parameters = parameters
    }

    /// A path or query parameter with its schema resolved; nil for headers.
    private static func parameter(_ parameter: [String: Any], schemas: [String: [String: Any]]) -> Parameter? {
        guard let name = parameter["name"] as? String, let location = (parameter["in"] as? String).flatMap(Parameter.Location.init),
              var schema = parameter["schema"] as? [String: Any]
        else { return nil }
        if let reference = schema["$ref"] as? String, let resolved = schemas[String(reference.split(separator: "/").last ?? "")] {
            schema = resolved
        }
        let kind: Parameter.Kind
        if let values = schema["enum"] as? [String] {
            kind = .oneOf(values)
        } else if schema["type"] as? String == "integer" {
            kind = .integer((schema["minimum"] as? Int ?? Int.min)...(schema["maximum"] as? Int ?? Int.max))
        } else {
            kind = .text
        }
        return Parameter(name: name, location: location, kind: kind)
    }

    /// The keys of a path item that are operations (the others are shared parameters and the like).
    private static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// The methods the document lists for a request path, sorted; empty when it has no such path.
    func methods(forRequestPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "?", maxSplits: 1).first?.split(separator: "/") ?? []
        return routes.filter { route in
            route.segments.count == segments.count && zip(route.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map(\.method).sorted { $0.rawValue < $1.rawValue }
    }

    /// `GET /openapi.json`, open to anyone: the document's own bytes, not a re-encoding of them.
    func register<Context: RequestContext>(on router: Router<Context>) {
        let body = ByteBuffer(bytes: bytes)
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: body))
        }
    }
}
