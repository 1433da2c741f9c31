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

    /// Runs deploy/check on a copy of the deployment files with `edits` (file, from, to) made.
    private func check(editing edits: [(String, String, String)]) async throws -> (status: Int32, output: String, error: String) {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-deploy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for item in ["deploy", "docker-compose.yml"] {
            try FileManager.default.copyItem(at: try root.appendingPathComponent(item), to: copy.appendingPathComponent(item))
        }
        for (file, from, to) in edits {
            let url = copy.appendingPathComponent(file)
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.contains(from), "\(file) no longer says \(from)")
            try text.replacingOccurrences(of: from, with: to).write(to: url, atomically: true, encoding: .utf8)
        }
        return try await check(in: copy)
    }

    @Test("a connection budget past PostgreSQL's max_connections is refused, in Kubernetes and compose")
    func connectionBudget() async throws {
        let result = try await check(editing: [
            ("deploy/kubernetes/configmap.yaml", #"imagegen/postgres-max-connections: "300""#, #"imagegen/postgres-max-connections: "150""#),
            ("docker-compose.yml", "x-imagegen-max-workers: 16", "x-imagegen-max-workers: 40"),
        ])
        #expect(result.status != 0)
        #expect(result.output.contains("20 worker x 9 + 2 serve x 9 + 1 migrate x 8 = 206 PostgreSQL connections, more than max_connections 150"), "\(result.output)")
        #expect(result.output.contains("40 worker x 5 + 1 serve x 5 + 1 migrate x 4 = 209 PostgreSQL connections, more than max_connections 100"), "\(result.output)")
    }

    @Test("a termination grace shorter than the worker's wait for its provider calls is refused, in Kubernetes and compose")
    func graceFollowsTheProviderTimeout() async throws {
        // The old figures: 40 s against a grace of PROVIDER_TIMEOUT_SECONDS (120) + 15.
        let result = try await check(editing: [
            ("deploy/kubernetes/worker.yaml", "terminationGracePeriodSeconds: 150", "terminationGracePeriodSeconds: 40"),
            ("docker-compose.yml", "stop_grace_period: 150s", "stop_grace_period: 40s"),
        ])
        #expect(result.status != 0)
        #expect(result.output.contains("terminationGracePeriodSeconds must exceed the worker's grace of 135 s"), "\(result.output)")
        #expect(result.output.contains("stop_grace_period must exceed the worker's grace of 135 s"), "\(result.output)")
    }
}
