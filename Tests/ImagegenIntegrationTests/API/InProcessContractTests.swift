import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ImagegenAPI
import ImagegenProviderGate
import ImagegenQueue
import ImagegenStore
import NIOCore
import Testing

/// The API's answers to what does not need a worker, in process through Hummingbird's test
/// client (no sockets): the router, the generated code and the middleware, with PostgreSQL
/// and Redis real as everywhere.
@Suite("In process: the generated routes answer as the document says, with the API's error shape")
struct InProcessContractTests {
    private static func withAPI(_ test: @escaping @Sendable (any TestClientProtocol, String) async throws -> Void) async throws {
        let database = try await TestEnvironment.database()
        let queue = TaskQueue(
            name: TestEnvironment.uniqueQueueName(), url: try TestEnvironment.redisURL(), connections: 1, logger: TestEnvironment.logger
        )
        let (_, key) = try await UserStore(database: database).createUser(name: "in-process")
        let application = try APIServer.makeApplication(
            .init(
                database: database, queue: queue,
                changes: TaskChangeListener(connectionString: try TestEnvironment.databaseURL(), logger: TestEnvironment.logger),
                backoff: RunningSystem.testBackoff, defaultModel: "dall-e-3", keptModels: RunningSystem.retiredModels,
                redisURL: try TestEnvironment.redisURL(),
                providerGate: ProviderGate(
                    endpoint: "http://127.0.0.1:9/v1", keyIDs: [], settings: GateSettings(), url: try TestEnvironment.redisURL(),
                    logger: TestEnvironment.logger
                )
            ),
            host: "127.0.0.1", port: 0, logger: TestEnvironment.logger
        )
        try await application.test(.router) { client in try await test(client, key.secret) }
    }

    private static func error(_ response: TestResponse) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
        return try #require(json?["error"] as? [String: Any])
    }

    @Test("a submission is a 202 with Location as it is and Retry-After; its status is the task as the schema types it")
    func submitAndPoll() async throws {
        try await Self.withAPI { client, key in
            let bearer: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
            let accepted = try await client.execute(
                uri: "/images/generate", method: .post, headers: bearer, body: ByteBuffer(string: #"{"prompt": "a lighthouse"}"#)
            )
            #expect(accepted.status == .accepted)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: accepted.body)) as? [String: Any])
            let taskID = try #require(body["task_id"] as? String)
            #expect(accepted.headers[.location] == "/images/tasks/\(taskID)/status")
            #expect(accepted.headers[.retryAfter] == "2")

            let status = try await client.execute(uri: "/images/tasks/\(taskID)/status", method: .get, headers: bearer)
            #expect(status.status == .ok)
            let task = try #require(try JSONSerialization.jsonObject(with: Data(buffer: status.body)) as? [String: Any])
            #expect(task["status"] as? String == "queued")
            #expect(task["prompt"] as? String == "a lighthouse")
            // RFC 3339 with milliseconds, as the store renders it.
            #expect((task["created_at"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        }
    }

    @Test("the model list gives each model's rules and prices in force; token rates are null for per-image models")
    func models() async throws {
        try await Self.withAPI { client, key in
            let answer = try await client.execute(uri: "/images/models", method: .get, headers: [.authorization: "Bearer \(key)"])
            #expect(answer.status == .ok)
            let list = try #require(try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any])
            #expect(list["default_model"] as? String == "dall-e-3")
            let models = try #require(list["models"] as? [[String: Any]])
            #expect(models.map { $0["name"] as? String } == models.map { $0["name"] as? String }.sorted { ($0 ?? "") < ($1 ?? "") })
            let dalle3 = try #require(models.first { $0["name"] as? String == "dall-e-3" })
            #expect(dalle3["sizes"] as? [String] == ["1024x1024", "1792x1024", "1024x1792"])
            #expect(dalle3["max_images"] as? Int == 1)
            let prices = try #require(dalle3["prices"] as? [[String: Any]])
            let standard = prices.first { $0["size"] as? String == "1024x1024" && $0["quality"] as? String == "standard" }
            #expect(standard?["usd"] as? String == "0.040000")
            #expect(standard?["micro_usd"] as? Int == 40_000)
            #expect(dalle3["token_rates"] is NSNull)
            let gptImage = try #require(models.first { $0["name"] as? String == "gpt-image-1" })
            #expect((gptImage["token_rates"] as? [String: Any])?["output_usd"] as? String != nil)
        }
    }

    @Test("no key is 401; a wrong method is 405 with Allow; Accept changes nothing; a repeated parameter is a 400 naming it")
    func routing() async throws {
        try await Self.withAPI { client, key in
            let anonymous = try await client.execute(uri: "/me/usage", method: .get)
            #expect(anonymous.status == .unauthorized)
            #expect(try Self.error(anonymous)["code"] as? String == "unauthorized")

            let wrongMethod = try await client.execute(uri: "/images/generate", method: .get, headers: [.authorization: "Bearer \(key)"])
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "POST")

            let html = try await client.execute(uri: "/me/usage", method: .get, headers: [.authorization: "Bearer \(key)", .accept: "text/html"])
            #expect(html.status == .ok)
            #expect(html.headers[.contentType]?.hasPrefix("application/json") == true)

            let repeated = try await client.execute(uri: "/images/tasks?limit=1&limit=2", method: .get, headers: [.authorization: "Bearer \(key)"])
            #expect(repeated.status == .badRequest)
            #expect(try Self.error(repeated)["field"] as? String == "limit")
        }
    }

    @Test("a body that is not JSON, not strict JSON or too large is refused before it is decoded: 415, 400, 413")
    func bodies() async throws {
        try await Self.withAPI { client, key in
            let bearer: HTTPFields = [.authorization: "Bearer \(key)"]
            let text = try await client.execute(
                uri: "/images/generate", method: .post, headers: bearer + [.contentType: "text/plain"], body: ByteBuffer(string: "a cat")
            )
            #expect(text.status == .unsupportedMediaType)
            #expect(try Self.error(text)["code"] as? String == "unsupported_media_type")

            let duplicate = try await client.execute(
                uri: "/images/estimate", method: .post, headers: bearer + [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"prompt": "a", "prompt": "b"}"#)
            )
            #expect(duplicate.status == .badRequest)
            #expect(try Self.error(duplicate)["code"] as? String == "duplicate_key")
            #expect(try Self.error(duplicate)["field"] as? String == "prompt")

            let large = try await client.execute(
                uri: "/images/generate", method: .post, headers: bearer + [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"prompt": ""# + String(repeating: "x", count: APIServer.maxBodyBytes) + #""}"#)
            )
            #expect(large.status == .contentTooLarge)
            #expect(try Self.error(large)["code"] as? String == "body_too_large")
        }
    }
}
