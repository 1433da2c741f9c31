import Foundation
import Testing

@Suite("The web console's files: served from the binary's resources with a strict Content-Security-Policy")
struct ConsoleRoutesTests {
    @Test("/ is the page, every module it loads is served, nothing is inline, and an unknown file is a JSON 404")
    func servesTheConsole() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let page = try await system.request("GET", "/", key: nil)
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        let policy = try #require(page.headers["content-security-policy"])
        #expect(policy.contains("script-src 'self';"))
        #expect(!policy.contains("unsafe-inline"))
        #expect(page.headers["x-content-type-options"] == "nosniff")
        let html = String(decoding: page.body, as: UTF8.self)
        for testID in ["api-key", "sign-in", "prompt", "submit", "gallery"] {
            #expect(html.contains("data-testid=\"\(testID)\""), "\(testID)")
        }
        // No inline script or handler: the policy would block it, so it must not be needed.
        #expect(html.ranges(of: "<script").count == html.ranges(of: "<script type=\"module\" src=\"/console/").count)
        #expect(html.firstRange(of: /\son[a-z]+=/) == nil)

        // Follow every module import from app.js: each is served as JavaScript.
        var pending = ["app.js"], seen: Set<String> = []
        while let name = pending.popLast() {
            guard seen.insert(name).inserted else { continue }
            let file = try await system.request("GET", "/console/\(name)", key: nil)
            #expect(file.status == 200, "\(name)")
            #expect(file.headers["content-type"] == "text/javascript; charset=utf-8", "\(name)")
            let source = String(decoding: file.body, as: UTF8.self)
            #expect(!source.contains("innerHTML"), "\(name) writes text as text")
            pending += source.matches(of: /from '\.\/([a-z]+\.js)'/).map { String($0.output.1) }
        }
        #expect(seen.count >= 7)
        #expect(try await system.request("GET", "/console/console.css", key: nil).headers["content-type"] == "text/css; charset=utf-8")
        let missing = try await system.request("GET", "/console/nope.js", key: nil)
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")
    }
}
