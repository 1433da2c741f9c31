import Foundation
import Hummingbird

/// The OpenAPI 3.1 description of every route: `openapi.json` beside this file, shipped in
/// the target's resources and served as it is at `/openapi.json`.
///
/// `OpenAPIDocumentTests` compares its paths with the route table and the served bytes with
/// the file, and the fuzz run (schemathesis) checks every answer against it.
enum OpenAPIDocument {
    static func register(in table: inout RouteTable) {
        let bytes = ByteBuffer(bytes: shipped)
        table.addOpen(.get, "openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: bytes))
        }
    }

    /// The document's bytes. Without them the API cannot describe itself, which is a broken
    /// build or install (the resource bundle was not copied beside the binary), not a state to serve from.
    static let shipped: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            fatalError("openapi.json is missing from the ImagegenAPI resources (\(Bundle.module.bundlePath))")
        }
        return Array(data)
    }()
}
