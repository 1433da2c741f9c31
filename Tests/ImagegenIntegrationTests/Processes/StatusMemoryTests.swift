import CurlClient
import Foundation
import ImagegenCore
import ImagegenStore
import Testing

@Suite("The status answer streams inline images, so concurrent polls cannot blow up the API's memory")
struct StatusMemoryTests {
    @Test("20 concurrent status polls of a task with ten 3 MB images keep `imagegen serve` under 200 MB resident")
    func concurrentPollsOfLargeImages() async throws {
        let database = try await TestEnvironment.database()
        let (user, key) = try await UserStore(database: database).createUser(name: "big-images")
        let taskID = try await TaskStore(database: database).createTask(userID: user.id, n: 10)
        let attempt = try #require(try await AttemptStore(database: database, takeoverAfter: .zero).beginAttempt(taskID: taskID))
        // Random bytes read in one go: drawn a byte at a time, the 30 MB held a thread of the Swift
        // concurrency pool (two on this machine) for 20-40 s, and the in-process servers of the
        // tests running beside this one stopped answering.
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? random.close() }
        let images = (0..<10).map { _ in
            StoredImage(mediaType: "image/png", bytes: [UInt8](random.readData(ofLength: 3_000_000)), revisedPrompt: nil)
        }
        #expect(images.allSatisfy { $0.bytes.count == 3_000_000 })
        #expect(try await AttemptStore(database: database, takeoverAfter: .zero).complete(attempt, images: images, usage: nil) == .recorded)

        let port = try ChildProcess.freePort()
        let api = try ChildProcess(["serve"], environment: [
            "DATABASE_URL": try TestEnvironment.databaseURL(), "REDIS_URL": try TestEnvironment.variable("IMAGEGEN_TEST_REDIS_URL"),
            "MIGRATIONS_DIR": try TestEnvironment.migrationsDirectory(), "PORT": String(port), "LOG_LEVEL": "warning",
        ])
        defer { Task { _ = await api.terminate() } }
        let client = CurlMultiClient()
        let base = "http://127.0.0.1:\(port)"
        #expect(try await eventually { (try? await client.send(CurlRequest(url: base + "/healthz", timeoutMilliseconds: 1_000)))?.status == 200 })

        let idle = try #require(api.peakResidentBytes)
        let request = CurlRequest(
            url: base + "/images/tasks/\(taskID.uuidString.lowercased())/status", headers: [("Authorization", "Bearer \(key.secret)")],
            timeoutMilliseconds: 300_000
        )
        let answers = try await withThrowingTaskGroup(of: CurlResponse.self) { group in
            for _ in 0..<20 { group.addTask { try await client.send(request) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let peak = try #require(api.peakResidentBytes)
        print(
            "status polls: 20 concurrent answers of \(answers.first?.body.count ?? 0) bytes; "
                + "API peak resident \(peak / 1_048_576) MB (\(idle / 1_048_576) MB before the polls)"
        )
        #expect(peak < 200 * 1_048_576)

        #expect(answers.allSatisfy { $0.status == 200 && $0.body.count == answers[0].body.count })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(answers[0].body)) as? [String: Any])
        #expect(json["status"] as? String == "succeeded")
        let inline = try #require(json["images"] as? [[String: Any]])
        #expect(inline.count == 10)
        for (position, image) in inline.enumerated() {
            #expect(Data(base64Encoded: image["b64_json"] as? String ?? "") == Data(images[position].bytes))
            #expect(image["media_type"] as? String == "image/png")
            #expect(image["url"] as? String == "/images/tasks/\(taskID.uuidString.lowercased())/images/\(position)")
        }
    }
}
