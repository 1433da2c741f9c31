import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Checks an operation's path and query parameters against the document before the generated
/// code reads them, so that a wrong one is named in the error. The generated decoding takes
/// the first of a repeated query parameter, reads `01` as 1, and reports a value it cannot
/// read without saying which parameter it was.
///
/// A query parameter given twice, or a number or choice the document does not allow, is a 400
/// naming it. In the path, a task id or image position that cannot exist names no task or
/// image: 404, as for one that does not exist.
struct ParameterCheckMiddleware: ServerMiddleware {
    let document: OpenAPIDocument

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let query = Self.queryItems(of: request.path ?? "")
        for parameter in document.parameters[operationID] ?? [] {
            switch parameter.location {
            case .path:
                guard let value = metadata.pathParameters[parameter.name], Self.allows(parameter.kind, String(value)) else {
                    throw parameter.name == "position" ? APIError.imageNotFound : APIError.taskNotFound
                }
            case .query:
                let values = query.filter { $0.name == parameter.name }.map(\.value)
                guard values.count <= 1 else {
                    throw APIError(.badRequest, code: "invalid_parameter", message: "\(parameter.name) is given more than once", field: parameter.name)
                }
                if let value = values.first, !Self.allows(parameter.kind, value) {
                    throw APIError(.badRequest, code: "invalid_parameter", message: Self.requirement(of: parameter), field: parameter.name)
                }
            }
        }
        return try await next(request, body, metadata)
    }

    private static func allows(_ kind: OpenAPIDocument.Parameter.Kind, _ value: String) -> Bool {
        switch kind {
        case .integer(let range): Int(value).map { range.contains($0) && String($0) == value } ?? false
        case .oneOf(let values): values.contains(value)
        case .text: true
        }
    }

    private static func requirement(of parameter: OpenAPIDocument.Parameter) -> String {
        switch parameter.kind {
        case .integer(let range): "\(parameter.name) must be a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .oneOf(let values): "\(parameter.name) must be one of \(values.joined(separator: ", "))"
        case .text: "\(parameter.name) is not valid"
        }
    }

    /// The query's name and value pairs, percent-decoded, in order; a name without `=` has an empty value.
    private static func queryItems(of path: String) -> [(name: String, value: String)] {
        guard let start = path.firstIndex(of: "?") else { return [] }
        return path[path.index(after: start)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            return (decoded(parts[0]), parts.count > 1 ? decoded(parts[1]) : "")
        }
    }
}
