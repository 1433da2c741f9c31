import Foundation
import ImagegenAPI
import ImagegenStore
import ImagegenTelemetry
import Testing

@Suite("The OpenAPI document at /openapi.json describes exactly the routes the server has")
struct OpenAPIDocumentTests {
    @Test("every route is documented with its method, and every documented operation is a route")
    func routesMatch() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let answer = try await system.request("GET", "/openapi.json", key: nil)
        #expect(answer.status == 200)
        #expect(answer.json["openapi"] as? String == "3.1.0")
        let paths = try #require(answer.json["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        let documented = Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })

        let table = APIServer.routes(
            .init(
                database: system.database, queue: system.queue,
                changes: TaskChangeListener(connectionString: try TestEnvironment.databaseURL(), logger: TestEnvironment.logger),
                backoff: RunningSystem.testBackoff, redisURL: system.redisURL
            ),
            logger: TestEnvironment.logger
        )
        let served = Set(table.routes.map { "\($0.method.rawValue) \($0.openAPIPath)" } + OperationsRoutes.paths.map { "GET /\($0)" })
        #expect(documented == served, "only documented: \(documented.subtracting(served)); only served: \(served.subtracting(documented))")
    }

    @Test("/openapi.json serves the checked-in Sources/ImagegenAPI/openapi.json byte for byte")
    func servesTheCheckedInFile() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let checkedIn = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../Sources/ImagegenAPI/openapi.json").standardizedFileURL
        let file = try Data(contentsOf: checkedIn)
        let answer = try await system.request("GET", "/openapi.json", key: nil)
        #expect(answer.status == 200)
        #expect(answer.headers["content-type"] == "application/json")
        #expect(file.count > 10_000)
        #expect(Data(answer.body) == file)
    }

    @Test("every documented 4xx or 5xx answer is the shared error shape")
    func errorsShareOneShape() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let document = try await system.request("GET", "/openapi.json", key: nil).json
        let shared = try #require((document["components"] as? [String: Any])?["responses"] as? [String: [String: Any]])
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        var checked = 0
        for (path, operations) in paths {
            for (method, operation) in operations {
                let responses = try #require(operation["responses"] as? [String: [String: Any]])
                for (status, response) in responses where status.hasPrefix("4") || status.hasPrefix("5") {
                    if path == "/readyz" { continue }
                    let resolved = (response["$ref"] as? String).flatMap { shared[String($0.split(separator: "/").last!)] } ?? response
                    let schema = ((resolved["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
                    #expect(schema?["$ref"] as? String == "#/components/schemas/Error", "\(method) \(path) \(status)")
                    checked += 1
                }
            }
        }
        #expect(checked > 30)
    }
}
