import Foundation
import HTTPTypes
import ImagegenCore
import OpenAPIRuntime

/// Reads the JSON body of the operations that take one before the generated code decodes it,
/// to answer what a JSON decoder lets pass or reports badly: a body over the size limit (413),
/// one declared as anything but JSON (415), and JSON that is not strict (a duplicate key, a
/// trailing comma) or not JSON at all (400). A body declared as nothing is read as JSON.
struct JSONBodyMiddleware: ServerMiddleware {
    /// The operations whose request body the document declares as JSON.
    let operations: Set<String>

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operations.contains(operationID) else { return try await next(request, body, metadata) }
        try Self.requireJSON(request)
        let bytes = try await Self.collect(body)
        switch StrictJSON.violation(in: bytes) {
        case .duplicateKey(let key):
            throw APIError(.badRequest, code: "duplicate_key", message: "the key \(key) appears twice in one object", field: key)
        case .trailingComma:
            throw APIError(.badRequest, code: "invalid_json", message: "the request body is not valid JSON: a comma is followed by } or ]")
        case nil:
            break
        }
        guard (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))) != nil else {
            throw APIError(.badRequest, code: "invalid_json", message: "the request body is not valid JSON")
        }
        var request = request
        // The generated code checks the declared type too; a body declared as nothing is JSON here.
        request.headerFields[.contentType] = "application/json"
        return try await next(request, HTTPBody(bytes), metadata)
    }

    /// The whole body, or 413 as soon as it passes the limit, without reading the rest.
    private static func collect(_ body: HTTPBody?) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        guard let body else { return bytes }
        for try await chunk in body {
            guard bytes.count + chunk.count <= APIServer.maxBodyBytes else { throw APIError.bodyTooLarge }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }

    private static func requireJSON(_ request: HTTPRequest) throws {
        guard let declared = request.headerFields[.contentType] else { return }
        let mediaType = declared.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard mediaType == "application/json" else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                message: "the body must be JSON sent as Content-Type: application/json, not \(declared)"
            )
        }
    }
}
