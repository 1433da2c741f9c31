import Foundation
import ImagegenCore
import ImagegenStore
import Testing

@Suite("imagegen admin keys and purge: keys shown once, revoked within a second; images purged on demand")
struct AdminKeysCommandTests {
    @Test("a created key works, is listed only by prefix, and stops working once it is revoked")
    func keyLifecycle() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let environment = ["DATABASE_URL": try TestEnvironment.databaseURL()]
        let (user, firstKey) = try await system.createUser(name: "keyholder-\(UUID().uuidString.prefix(8))")

        let created = try await ChildProcess.run(["admin", "keys", "create", "--user", user.name, "--label", "ci"], environment: environment)
        #expect(created.status == 0)
        let secret = try #require(
            created.output.split(separator: "\n").first { $0.hasPrefix("api_key: ") }.map { String($0.dropFirst("api_key: ".count)) }
        )
        #expect(secret.hasPrefix(APIKey.prefix) && secret.count == APIKey.prefix.count + 64)
        #expect(try await system.request("GET", "/me/usage", key: secret).status == 200)

        let listed = try await ChildProcess.run(["admin", "keys", "list", "--user", user.id.uuidString], environment: environment)
        #expect(listed.status == 0)
        let lines = listed.output.split(separator: "\n").dropFirst()
        #expect(lines.count == 2)
        #expect(!listed.output.contains(secret) && !listed.output.contains(firstKey))
        let line = try #require(lines.first { $0.contains("ci") })
        let keyID = try #require(line.split(separator: " ").first.map(String.init))

        let revoked = try await ChildProcess.run(["admin", "keys", "revoke", keyID], environment: environment)
        #expect(revoked.status == 0)
        // The API checks a key again once its last check is a second old.
        #expect(try await eventually { try await system.request("GET", "/me/usage", key: secret).status == 401 })
        #expect(try await system.request("GET", "/me/usage", key: firstKey).status == 200)

        let again = try await ChildProcess.run(["admin", "keys", "revoke", keyID], environment: environment)
        #expect(again.status != 0)
        #expect(again.error.split(separator: "\n").count == 1)
        let digests = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS n FROM api_keys WHERE display_prefix = $1 AND octet_length(key_digest) = 32", [
                .text(APIKey(secret: secret).displayPrefix)
            ])
        }
        #expect(try digests.first?.int("n") == 1)
    }

    @Test("admin purge deletes only images older than the cutoff and says how much")
    func purge() async throws {
        let system = try await RunningSystem.start()
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "purge-cli")
        let taskID = try #require(
            try await system.submit(key: key, #"{"prompt": "old", "model": "dall-e-2", "size": "256x256"}"#).json["task_id"] as? String
        )
        #expect(try await system.waitForTerminal(taskID: taskID, key: key).json["status"] as? String == "succeeded")
        let environment = ["DATABASE_URL": try TestEnvironment.databaseURL()]
        let kept = try await ChildProcess.run(["admin", "purge", "--older-than", "1h"], environment: environment)
        #expect(kept.status == 0)
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/images/0", key: key).status == 200)
        try await system.database.run { connection in
            try connection.query("UPDATE tasks SET finished_at = now() - interval '3 hours' WHERE id = $1", [.text(taskID)])
        }
        let purged = try await ChildProcess.run(["admin", "purge", "--older-than", "2h"], environment: environment)
        #expect(purged.status == 0)
        #expect(purged.output.hasPrefix("purged "))
        #expect(try await system.request("GET", "/images/tasks/\(taskID)/images/0", key: key).status == 410)
    }

    @Test("bad arguments end with one line and a non-zero exit", arguments: [
        ["admin", "purge", "--older-than", "30"], ["admin", "purge", "--older-than", "30x"], ["admin", "purge", "--older-than", "-1d"],
        ["admin", "purge"], ["admin", "keys", "create", "--user", "nobody-by-this-name"], ["admin", "keys", "revoke", "ig_nothing"],
    ])
    func badArguments(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run(arguments, environment: ["DATABASE_URL": try TestEnvironment.databaseURL()])
        #expect(result.status != 0)
        #expect(result.error.split(separator: "\n").first?.hasPrefix("Error: ") == true)
    }
}
