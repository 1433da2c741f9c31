import CurlClient
import Foundation
import MockProvider
import Testing

@Suite("The HTTP client keeps its connections open between bursts of calls, and never sends a call twice on them")
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

    @Test("a kept connection that dies after the request went out fails the call, which curl alone would have sent again")
    func noSilentResend() async throws {
        let server = try DroppingServer()
        defer { server.stop() }
        let client = CurlMultiClient()
        let request = CurlRequest(
            method: "POST", url: "http://127.0.0.1:\(server.port)/v1/images/generations", headers: [("Content-Type", "application/json")],
            body: Array(#"{"prompt": "a kite"}"#.utf8), timeoutMilliseconds: 10_000
        )
        #expect(try await client.send(request).status == 200)
        let error = await #expect(throws: CurlError.self) { try await client.send(request) }
        #expect(error?.requestSent == true, "the provider may have acted on the call: its caller must know")
        #expect(server.requestsReceived == 2, "the second call reached the server once")
    }

    @Test("a GET, which changes nothing, is sent again on a fresh connection when its kept one dies")
    func getIsSentAgain() async throws {
        let server = try DroppingServer()
        defer { server.stop() }
        let client = CurlMultiClient()
        let request = CurlRequest(url: "http://127.0.0.1:\(server.port)/v1/predictions/p1", timeoutMilliseconds: 10_000)
        #expect(try await client.send(request).status == 200)
        #expect(try await client.send(request).status == 200)
        #expect(server.requestsReceived == 3)
    }
}

