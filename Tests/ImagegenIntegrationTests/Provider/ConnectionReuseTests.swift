import CurlClient
import Foundation
import MockProvider
import Testing

@Suite("The HTTP client keeps its connections open between bursts of calls")
struct ConnectionReuseTests {
    private let burst = 32

    /// Sends two bursts of `burst` calls the mock holds a second each, so that each burst's calls
    /// are all in flight at once, and returns the connections the second burst had to open.
    private func connectionsOpenedBySecondBurst(client: CurlMultiClient) async throws -> Int {
        var tasks: [Task<Void, Never>] = []
        defer { tasks.forEach { $0.cancel() } }
        var plan = FaultPlan()
        plan.latencyMilliseconds = 1_000
        let mock = MockProviderServer(plan: plan)
        let port = try await RunningSystem.serve({
            mock.makeApplication(host: "127.0.0.1", port: 0, logger: TestEnvironment.logger, onServerRunning: $0)
        }, into: &tasks)
        let request = CurlRequest(
            method: "POST", url: "http://127.0.0.1:\(port)/v1/images/generations",
            headers: [("Authorization", "Bearer sk-test"), ("Content-Type", "application/json")],
            body: Array(#"{"prompt": "a kite", "model": "dall-e-2", "size": "256x256"}"#.utf8), timeoutMilliseconds: 10_000
        )
        var opened: [Int] = []
        for _ in 0..<2 {
            opened.append(try await withThrowingTaskGroup(of: CurlResponse.self) { group in
                for _ in 0..<burst { group.addTask { try await client.send(request) } }
                var opened = 0
                for try await response in group {
                    #expect(response.status == 200)
                    opened += response.newConnections
                }
                return opened
            })
        }
        #expect(opened[0] == burst, "the first burst opens a connection per call")
        return opened[1]
    }

    @Test("a client sized for its calls in flight opens no connection for the second burst")
    func keepsConnections() async throws {
        #expect(try await connectionsOpenedBySecondBurst(client: CurlMultiClient(connections: burst)) == 0)
    }

    @Test("a client that keeps fewer connections than its calls in flight opens the difference again")
    func smallerCacheReopens() async throws {
        #expect(try await connectionsOpenedBySecondBurst(client: CurlMultiClient(connections: 4)) == burst - 4)
    }
}
