import CurlClient
import Foundation
import ImagegenCore
import Testing

@Suite("The imagegen binary: separate API, worker and provider processes configured by environment")
struct ProcessPipelineTests {
    @Test("migrate, create a user, serve, two workers and the mock provider take 20 tasks to succeeded; metrics and JSON logs tell")
    func wholeSystemAsProcesses() async throws {
        _ = try await TestEnvironment.database()
        let providerPort = try ChildProcess.freePort()
        let apiPort = try ChildProcess.freePort()
        let environment = [
            "DATABASE_URL": try TestEnvironment.databaseURL(),
            "REDIS_URL": try TestEnvironment.variable("IMAGEGEN_TEST_REDIS_URL"),
            "IMAGEGEN_QUEUE": TestEnvironment.uniqueQueueName(),
            "MIGRATIONS_DIR": try TestEnvironment.migrationsDirectory(),
            "OPENAI_BASE_URL": "http://127.0.0.1:\(providerPort)/v1",
            "OPENAI_API_KEY": "sk-mock",
            "PORT": String(apiPort),
            "LOG_LEVEL": "info",
            // DALL-E's flat price keeps the cost report's sum simple; the fresh-install default
            // (gpt-image-2, billed by tokens) is ModelLifecycleTests' subject.
            "DEFAULT_MODEL": "dall-e-3", "KEEP_MODELS": "dall-e-3",
        ]

        let migrate = try await ChildProcess.run(["migrate"], environment: environment)
        #expect(migrate.status == 0)
        #expect(migrate.output.contains("database is up to date"))

        let created = try await ChildProcess.run(["admin", "users", "create", "--name", "process-test"], environment: environment)
        #expect(created.status == 0)
        let key = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("api_key: ") }?.dropFirst("api_key: ".count))
        let userID = try #require(created.output.split(separator: "\n").first { $0.hasPrefix("user_id: ") }?.dropFirst("user_id: ".count))

        let provider = try ChildProcess(["mock-provider", "--port", String(providerPort), "--latency-ms", "20"], environment: environment)
        let api = try ChildProcess(["serve"], environment: environment)
        let workerPorts = try (0..<2).map { _ in try ChildProcess.freePort() }
        let workers = try workerPorts.enumerated().map { index, port in
            try ChildProcess(
                ["worker", "--concurrency", "4", "--http-port", String(port)],
                environment: environment.merging(["LOG_FORMAT": index == 0 ? "json" : "text"]) { _, new in new }
            )
        }

        let client = CurlMultiClient()
        let base = "http://127.0.0.1:\(apiPort)"
        try await waitUntilUp(client, base + "/healthz")

        var taskIDs: [String] = []
        for index in 0..<20 {
            let response = try await client.send(CurlRequest(
                method: "POST", url: base + "/images/generate",
                headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                body: Array(#"{"prompt": "process test \#(index)"}"#.utf8)
            ))
            #expect(response.status == 202)
            let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            taskIDs.append(try #require(json?["task_id"] as? String))
        }
        for taskID in taskIDs {
            #expect(try await finalStatus(client, base, taskID: taskID, key: String(key)) == "succeeded")
        }

        let readiness = try await client.send(CurlRequest(url: base + "/readyz"))
        #expect(readiness.status == 200)
        #expect(String(decoding: readiness.body, as: UTF8.self) == #"{"checks":{"postgres":"ok","redis":"ok"},"status":"ready"}"#)
        let apiMetrics = try await text(client, base + "/metrics")
        #expect(apiMetrics.contains(#"imagegen_queue_ready_tasks{queue="\#(environment["IMAGEGEN_QUEUE"]!)"} 0"#))
        #expect(apiMetrics.contains(#"hb_requests{http_route="/images/generate",http_request_method="POST",http_response_status_code="202"} 20"#))
        for port in workerPorts {
            let metrics = try await text(client, "http://127.0.0.1:\(port)/metrics")
            #expect(metrics.contains("imagegen_provider_request_duration_seconds_bucket"))
            #expect(metrics.contains("imagegen_provider_breaker_state 0"))
        }
        // A worker counts a task just after it commits the outcome the polls saw.
        var succeeded = 0
        #expect(try await eventually {
            succeeded = 0
            for port in workerPorts {
                let metrics = try await text(client, "http://127.0.0.1:\(port)/metrics")
                succeeded += sample(#"imagegen_tasks_finished_total{status="succeeded",code=""}"#, in: metrics)
            }
            return succeeded == 20
        }, "the workers counted \(succeeded) succeeded tasks")

        let queueStats = try await ChildProcess.run(["admin", "queue", "stats"], environment: environment)
        #expect(queueStats.status == 0)
        #expect(queueStats.output.contains("circuit breaker: closed; opened 0 times"))
        #expect(queueStats.output.contains(SHA256.fingerprint(environment["OPENAI_API_KEY"]!)))

        let report = try await ChildProcess.run(["admin", "cost-report"], environment: environment)
        #expect(report.status == 0)
        let line = try #require(report.output.split(separator: "\n").first { $0.hasPrefix(userID) })
        #expect(line.split(separator: " ").contains("0.800000"))

        for worker in workers {
            #expect(await worker.terminate() == 0)
            #expect(worker.log.contains("worker stopped"))
        }
        #expect(workers.map { $0.log.components(separatedBy: "task succeeded").count - 1 }.reduce(0, +) == 20)
        let records = try workers[0].log.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
        let successes = records.filter { $0["message"] as? String == "task succeeded" }
        #expect(!successes.isEmpty)
        #expect(successes.allSatisfy { taskIDs.contains($0["task_id"] as? String ?? "") && $0["level"] as? String == "info" })
        _ = await api.terminate()
        _ = await provider.terminate()
        for process in [api, provider] + workers {
            #expect(!process.log.contains(String(key)), "a client key in a log")
            #expect(!process.log.contains(environment["OPENAI_API_KEY"]!), "the provider key in a log")
        }
        #expect(api.log.contains("task queued"))
    }

    @Test("a bad setting stops a command at start with one line naming it", arguments: [
        (["serve"], ["PORT": "abc"], "PORT"),
        (["serve"], ["REDIS_URL": "http://nowhere"], "REDIS_URL"),
        (["serve"], ["DEFAULT_MODEL": "dall-e-3", "KEEP_MODELS": ""], "DEFAULT_MODEL"),
        (["serve"], ["DEFAULT_MODEL": "no-such-model"], "DEFAULT_MODEL"),
        (["migrate"], ["DATABASE_URL": "postgresql://postgres:secret@127.0.0.1:1/none"], "DATABASE_URL"),
        (["worker"], ["OPENAI_API_KEY": ""], "OPENAI_API_KEY"),
        (["worker"], ["OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "ftp://x"], "OPENAI_BASE_URL"),
        (["worker"], ["OPENAI_API_KEY": "k", "PROVIDER_DIALECT": "azure"], "AZURE_OPENAI_DEPLOYMENT"),
        (["worker"], ["OPENAI_API_KEY": "k", "PROVIDER_DIALECT": "midjourney"], "PROVIDER_DIALECT"),
        (["worker"], ["OPENAI_API_KEY": "k", "PROVIDERS": "Backup"], "PROVIDERS"),
        (["worker"], ["OPENAI_API_KEY": "k", "PROVIDERS": "backup"], "PROVIDER_BACKUP_BASE_URL"),
        (["worker"], ["OPENAI_API_KEY": "k", "PROVIDERS": "replicate"], "PROVIDER_REPLICATE_API_KEYS"),
        (["worker"], [
            "OPENAI_API_KEY": "k", "PROVIDERS": "replicate", "PROVIDER_REPLICATE_API_KEYS": "r", "PROVIDER_REPLICATE_IMAGES_PER_MINUTE": "lots",
        ], "PROVIDER_REPLICATE_IMAGES_PER_MINUTE"),
    ] as [([String], [String: String], String)])
    func badSettingFailsFast(_ arguments: [String], _ override: [String: String], _ variable: String) async throws {
        _ = try await TestEnvironment.database()  // migrated, so that serve reads the model catalog
        var environment = [
            "DATABASE_URL": try TestEnvironment.databaseURL(),
            "REDIS_URL": try TestEnvironment.variable("IMAGEGEN_TEST_REDIS_URL"),
        ]
        environment.merge(override) { _, new in new }
        let result = try await ChildProcess.run(arguments, environment: environment)
        #expect(result.status != 0)
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("Error: \(variable):") == true, "\(result.error)")
        #expect(!result.error.contains("secret"))
    }

    private func text(_ client: CurlMultiClient, _ url: String) async throws -> String {
        String(decoding: try await client.send(CurlRequest(url: url)).body, as: UTF8.self)
    }

    /// The value of one Prometheus sample line, or 0 when absent.
    private func sample(_ name: String, in exposition: String) -> Int {
        exposition.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    private func waitUntilUp(_ client: CurlMultiClient, _ url: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let response = try? await client.send(CurlRequest(url: url, timeoutMilliseconds: 1_000)), response.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestEnvironment.Missing(description: "\(url) did not come up")
    }

    private func finalStatus(_ client: CurlMultiClient, _ base: String, taskID: String, key: String) async throws -> String? {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let response = try await client.send(CurlRequest(
                url: base + "/images/tasks/\(taskID)/status", headers: [("Authorization", "Bearer \(key)")]
            ))
            let status = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["status"] as? String
            if ["succeeded", "failed", "canceled"].contains(status) { return status }
            try await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }
}
