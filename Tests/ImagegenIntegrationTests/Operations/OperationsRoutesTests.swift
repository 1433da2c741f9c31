import CurlClient
import Foundation
import Hummingbird
import ImagegenTelemetry
import Prometheus
import Testing

@Suite("Health, readiness and metrics routes")
struct OperationsRoutesTests {
    struct Unreachable: Error {}

    @Test("readiness names a failing and a hung dependency and answers 503 within the check timeout")
    func readinessReportsEachDependency() async throws {
        let routes = OperationsRoutes(
            registry: PrometheusCollectorRegistry(),
            dependencies: [
                .init(name: "fine") {},
                .init(name: "down") { throw Unreachable() },
                .init(name: "hung") { try await Task.sleep(for: .seconds(600)) },
            ],
            checkTimeout: .milliseconds(300)
        )
        let router = Router()
        routes.register(on: router)
        var tasks: [Task<Void, Never>] = []
        defer { tasks.forEach { $0.cancel() } }
        let port = try await RunningSystem.serve({ onRunning in
            Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
        }, into: &tasks)
        let client = CurlMultiClient()

        let started = ContinuousClock.now
        let readiness = try await client.send(CurlRequest(url: "http://127.0.0.1:\(port)/readyz"))
        // The check timeout, not the 600 s hang, ends the check; the bound is a liveness guard.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(readiness.status == 503)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(readiness.body)) as? [String: Any])
        #expect(body["status"] as? String == "not_ready")
        #expect(body["checks"] as? [String: String] == ["fine": "ok", "down": "unavailable", "hung": "unavailable"])

        let health = try await client.send(CurlRequest(url: "http://127.0.0.1:\(port)/healthz"))
        #expect(health.status == 200)
        let metrics = try await client.send(CurlRequest(url: "http://127.0.0.1:\(port)/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
    }
}
