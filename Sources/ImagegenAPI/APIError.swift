import Foundation
import Hummingbird
import ImagegenCore

/// An error answer: `{"error": {"code", "message", "field"?}}` with its HTTP status.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public let field: String?
    /// Further members of the error object, e.g. a spend limit's `limit_usd`.
    public let details: [String: String]
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, details: [String: String] = [:],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details
        self.headers = headers
    }

    init(_ validation: ValidationError) {
        let status: HTTPResponse.Status = validation.code == "invalid_body" ? .badRequest : .unprocessableContent
        self.init(status, code: validation.code, message: validation.message, field: validation.field)
    }

    static let unauthorized = APIError(
        .unauthorized, code: "unauthorized", message: "missing or invalid API key; send Authorization: Bearer <key>",
        headers: [.wwwAuthenticate: "Bearer"]
    )

    static let bodyTooLarge = APIError(
        .contentTooLarge, code: "body_too_large", message: "the request body is over \(APIServer.maxBodyBytes) bytes"
    )

    static let imageNotFound = APIError(
        .notFound, code: "image_not_found", message: "no such image: positions are whole numbers from 0 (openapi.json gives the highest)",
        field: "position"
    )

    static let taskNotFound = APIError(.notFound, code: "task_not_found", message: "no such task for this API key")

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONResponse.make(status: status, body: Envelope(error: Body(code: code, message: message, field: field, details: details)))
        response.headers.append(contentsOf: headers)
        return response
    }

    private struct Envelope: Encodable {
        let error: Body
    }

    private struct Body: Encodable {
        let code: String
        let message: String
        let field: String?
        let details: [String: String]

        private struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(_ name: String) { stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(code, forKey: Key("code"))
            try container.encode(message, forKey: Key("message"))
            try container.encodeIfPresent(field, forKey: Key("field"))
            for (name, value) in details.sorted(by: { $0.key < $1.key }) {
                try container.encode(value, forKey: Key(name))
            }
        }
    }
}
