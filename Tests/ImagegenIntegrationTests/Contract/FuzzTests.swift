import Foundation
import ImagegenAPI
import ImagegenStore
import Testing

@Suite("Fuzzing the API against its OpenAPI document with schemathesis")
struct FuzzTests {
    /// Test cases per operation; `scripts/fuzz` raises it for a longer run.
    static var examplesPerOperation: Int {
        ProcessInfo.processInfo.environment["IMAGEGEN_FUZZ_EXAMPLES"].flatMap(Int.init) ?? 60
    }

    @Test("hundreds of generated requests: no 5xx, every answer as documented, bad input refused with a 4xx")
    func fuzz() async throws {
        let system = try await RunningSystem.start(submissionRate: SubmissionRateLimit(perMinute: 600, burst: 60))
        defer { Task { await system.stop() } }
        // An admin key, so that the operator routes are fuzzed past their admin check
        // (OperatorRoutesTests covers an ordinary key's 403).
        let (fuzzer, _) = try await system.createUser(name: "fuzzer")
        let key = try await UserStore(database: system.database).createKey(userID: fuzzer.id, label: "fuzz", isAdmin: true).1.secret
        let python = URL(fileURLWithPath: try TestEnvironment.variable("IMAGEGEN_PYTHON"))
        let schemathesis = python.deletingLastPathComponent().appendingPathComponent("schemathesis")
        let configuration = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../fuzz/schemathesis.toml").standardizedFileURL.path
        let run = try await ChildProcess.run(
            [
                "--config-file", configuration, "run", "\(system.apiBaseURL)/openapi.json",
                "--header", "Authorization: Bearer \(key)",
                // positive_data_acceptance: a schema-valid body may name a model the catalog lacks (422);
                // the other two need links between operations, which the document does not declare.
                "--checks", "all", "--exclude-checks", "positive_data_acceptance,use_after_free,ensure_resource_availability",
                // The response-time check's 10 s default would judge how busy the machine is, not the
                // contract: its limit is the request timeout, which ends a hang either way.
                "--max-response-time", "40",
                "--phases", "examples,coverage,fuzzing", "--max-examples", String(Self.examplesPerOperation),
                "--request-timeout", "40", "--no-color", "--output-truncate", "true", "--generation-database", "none",
            ],
            environment: [:], executable: schemathesis
        )
        let summary = run.output.split(separator: "\n").drop { !$0.contains("SUMMARY") }
        print(summary.joined(separator: "\n"))
        #expect(run.status == 0, "schemathesis found failures:\n\(run.output.suffix(6_000))\n\(run.error.suffix(2_000))")
        let generated = try #require(
            run.output.firstMatch(of: /(\d+) generated/).flatMap { Int($0.1) }, "no test case count in:\n\(run.output.suffix(2_000))"
        )
        #expect(generated >= 300)
    }
}
