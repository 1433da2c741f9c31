import Foundation
import ImagegenStore
import Testing

@Suite("The web console in headless Chromium, against the running system and the mock provider")
struct ConsoleBrowserTests {
    /// Where the screenshots go: IMAGEGEN_SCREENSHOTS, or .local/test/screenshots. The
    /// README's images are copied from there (docs/console/).
    static var screenshots: String {
        ProcessInfo.processInfo.environment["IMAGEGEN_SCREENSHOTS"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../.local/test/screenshots").standardizedFileURL.path
    }

    @Test("sign in, create, watch it succeed, markup shown as text, cancel, gallery pages, usage, and the operator view for admins only")
    func drivesTheConsole() async throws {
        // Samples often enough that the operator view's chart has a history within the test.
        let system = try await RunningSystem.start(queueSampleInterval: .milliseconds(100))
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "console-user")
        let (operatorUser, _) = try await system.createUser(name: "operator")
        let (_, adminKey) = try await UserStore(database: system.database).createKey(userID: operatorUser.id, label: "console", isAdmin: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../browser/console_test.py").standardizedFileURL.path
        let run = try await ChildProcess.run(
            [script, system.apiBaseURL, system.providerBaseURL, key, adminKey.secret, Self.screenshots],
            environment: [:], executable: URL(fileURLWithPath: try TestEnvironment.variable("IMAGEGEN_PYTHON"))
        )
        #expect(run.status == 0, "the browser run failed:\n\(run.error.suffix(4_000))\n\(run.output.suffix(2_000))")
        #expect(run.output.contains("console: all checks passed"))
        for name in ["create.png", "gallery.png", "operators.png"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: "\(Self.screenshots)/\(name)")[.size] as? Int) ?? 0
            #expect(size > 10_000, "\(name) was taken")
        }
    }
}
