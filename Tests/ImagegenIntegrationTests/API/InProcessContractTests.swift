import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ImagegenAPI
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
                backoff: RunningSystem.testBackoff, redisURL: try TestEnvironment.redisURL()
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
