import Foundation
import Testing

@Suite("The OpenAPI document at /openapi.json describes exactly the routes the server has")
struct OpenAPIDocumentTests {
    @Test("every documented operation is routed: without a key, a secured one answers 401 and an open one answers itself")
    func everyOperationIsRouted() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let document = try await system.request("GET", "/openapi.json", key: nil).json
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        var secured = 0
        for (path, operations) in paths {
            let concrete = path.replacingOccurrences(of: "{id}", with: UUID().uuidString).replacingOccurrences(of: "{position}", with: "0")
            for (method, operation) in operations {
                let open = (operation["security"] as? [Any])?.isEmpty == true
                let body = method == "post" ? #"{"prompt": "x"}"# : nil
                let answer = try await system.request(method.uppercased(), concrete, key: nil, body: body)
                if open {
                    #expect([200, 503].contains(answer.status), "\(method) \(path)")
                } else {
                    secured += 1
                    #expect(answer.status == 401, "\(method) \(path)")
                    #expect(answer.errorCode == "unauthorized", "\(method) \(path)")
                }
            }
        }
        #expect(secured == 16)
        let undocumented = try await system.request("PUT", "/images/tasks", key: nil)
        #expect(undocumented.status == 405)
        #expect(undocumented.headers["allow"] == "GET")
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
