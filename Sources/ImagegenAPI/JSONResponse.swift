import Foundation
import Hummingbird

/// Builds the JSON answers written outside the generated code (errors, streamed status and
/// events) as the generated code writes its own: keys in a stable order, slashes unescaped so
/// base64 images are not inflated, timestamps with milliseconds.
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let transcoder = APIHandlers.configuration.dateTranscoder
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(try transcoder.encode(date))
        }
        return encoder
    }()

    static func make(status: HTTPResponse.Status, body: some Encodable, headers: HTTPFields = [:]) throws -> Response {
        let data = try encoder.encode(body)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
