import Foundation
import Testing

@Suite("Deployment files: compose and Kubernetes manifests agree with the binary")
struct DeploymentFilesTests {
    private var root: URL {
        get throws { URL(fileURLWithPath: try TestEnvironment.migrationsDirectory()).deletingLastPathComponent() }
    }

    private func check(in folder: URL) async throws -> (status: Int32, output: String, error: String) {
        let python = URL(fileURLWithPath: try TestEnvironment.variable("IMAGEGEN_PYTHON"))
        return try await ChildProcess.run(
            [folder.appendingPathComponent("deploy/check").path, try ChildProcess.binary().path], environment: [:], executable: python
        )
    }

    @Test("deploy/check finds every YAML file parsing, valid, and naming only real commands, options and variables")
    func manifestsMatchTheBinary() async throws {
        let result = try await check(in: try root)
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.contains("all consistent with the binary"))
    }

    @Test("a termination grace shorter than the worker's wait for its provider calls is refused, in Kubernetes and compose")
    func graceFollowsTheProviderTimeout() async throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-deploy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for item in ["deploy", "docker-compose.yml"] {
            try FileManager.default.copyItem(at: try root.appendingPathComponent(item), to: copy.appendingPathComponent(item))
        }
        // The old figures: 40 s against a grace of PROVIDER_TIMEOUT_SECONDS (120) + 15.
        for (file, from, to) in [
            ("deploy/kubernetes/worker.yaml", "terminationGracePeriodSeconds: 150", "terminationGracePeriodSeconds: 40"),
            ("docker-compose.yml", "stop_grace_period: 150s", "stop_grace_period: 40s"),
        ] {
            let url = copy.appendingPathComponent(file)
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.contains(from))
            try text.replacingOccurrences(of: from, with: to).write(to: url, atomically: true, encoding: .utf8)
        }
        let result = try await check(in: copy)
        #expect(result.status != 0)
        #expect(result.output.contains("terminationGracePeriodSeconds must exceed the worker's grace of 135 s"), "\(result.output)")
        #expect(result.output.contains("stop_grace_period must exceed the worker's grace of 135 s"), "\(result.output)")
    }
}
