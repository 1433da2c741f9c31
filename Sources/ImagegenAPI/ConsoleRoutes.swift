import Foundation
import HTTPTypes
import Hummingbird

/// The web console: `index.html` at `/` and its scripts and styles under `/console/`, read
/// once from the target's resources and served as they are. Nothing is fetched from
/// elsewhere and no script is inline, so the Content-Security-Policy allows only this origin.
struct ConsoleRoutes: Sendable {
    struct Asset: Sendable {
        let contentType: String
        let body: ByteBuffer
    }

    /// Scripts, styles and images from this origin only; images may also be the object URLs
    /// the console makes from fetched image bytes (an `<img>` cannot send the bearer key).
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    static let mediaTypes = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8", "svg": "image/svg+xml",
    ]

    /// Every file of the shipped console by name.
    let assets: [String: Asset]

    static let shipped: ConsoleRoutes = {
        guard let directory = Bundle.module.url(forResource: "Console", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else {
            fatalError("the console's files are missing from the ImagegenAPI resources (\(Bundle.module.bundlePath))")
        }
        var assets: [String: Asset] = [:]
        for name in names {
            guard let type = mediaTypes[(name as NSString).pathExtension],
                let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
            else { continue }
            assets[name] = Asset(contentType: type, body: ByteBuffer(bytes: data))
        }
        return ConsoleRoutes(assets: assets)
    }()

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/") { _, _ in try self.response(for: "index.html") }
        router.get("/console/{file}") { _, context in try self.response(for: context.parameters.get("file") ?? "") }
    }

    private func response(for name: String) throws -> Response {
        guard let asset = assets[name] else {
            throw APIError(.notFound, code: "not_found", message: "the console has no file named \(name)")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: asset.contentType, .contentSecurityPolicy: Self.contentSecurityPolicy, .xContentTypeOptions: "nosniff",
                Self.referrerPolicy: "no-referrer", .cacheControl: "no-cache",
            ],
            body: ResponseBody(byteBuffer: asset.body)
        )
    }
}
