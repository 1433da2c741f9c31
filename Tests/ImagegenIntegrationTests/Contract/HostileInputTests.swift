import CurlClient
import Foundation
import ImagegenStore
import Testing

@Suite("Hostile input: every field, header and parameter gets a clean 4xx and leaves the database as it was")
struct HostileInputTests {
    static let sqlAndShell = ["'; DROP TABLE tasks; --", "\" OR 1=1 --", "$(reboot)", "`id`", "; rm -rf / #", "../../etc/passwd", "%00"]

    /// Bodies that must be refused, with the status class they must get.
    static var bodies: [(label: String, body: [UInt8])] {
        var bodies: [(String, [UInt8])] = []
        for field in ["model", "size", "quality", "style"] {
            for value in sqlAndShell {
                var object: [String: String?] = ["prompt": "p", "model": "dall-e-3"]
                object[field] = value
                bodies.append(("\(field) \(value)", json(object)))
            }
        }
        for (field, value) in [("prompt", "a\u{0}b"), ("user", "u\u{0}"), ("model", "dall-e-3\u{0}")] {
            var object: [String: String?] = ["prompt": "p"]
            object[field] = value
            bodies.append(("NUL in \(field)", json(object)))
        }
        bodies.append(("invalid UTF-8", Array(#"{"prompt": ""#.utf8) + [0xff, 0xfe, 0xc3] + Array(#""}"#.utf8)))
        bodies.append(("lone surrogate", Array(#"{"prompt": "\udc00"}"#.utf8)))
        bodies.append(("1 MB prompt", Array(#"{"prompt": ""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 1 << 20) + Array(#""}"#.utf8)))
        bodies.append(("prompt over the model's limit", json(["prompt": String(repeating: "b", count: 4_001)])))
        bodies.append(("deep JSON", Array((String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)).utf8)))
        let deepField = #"{"prompt": "# + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "}"
        bodies.append(("deep JSON in a field", Array(deepField.utf8)))
        bodies.append(("duplicate key", Array(#"{"prompt": "harmless", "prompt": "something else"}"#.utf8)))
        bodies.append(("escaped duplicate key", Array(#"{"prompt": "a", "\u0070rompt": "b"}"#.utf8)))
        for (field, raw) in [
            ("prompt", "5"), ("prompt", "[\"p\"]"), ("prompt", "{}"), ("prompt", "true"), ("n", "\"2\""), ("n", "1.5"), ("n", "true"),
            ("model", "[]"), ("user", "{}"), ("size", "1024"),
        ] {
            bodies.append(("\(field) as \(raw)", Array(#"{"prompt": "p", "\#(field)": \#(raw)}"#.utf8).replacingPrompt(if: field == "prompt")))
        }
        for n in ["-1", "0", "11", "2147483648", "9223372036854775808", "1e300", "-0.0", "99999999999999999999999999"] {
            bodies.append(("n = \(n)", Array(#"{"prompt": "p", "model": "dall-e-2", "n": \#(n)}"#.utf8)))
        }
        for raw in ["", "null", "[]", "\"prompt\"", "42", "{", "{\"prompt\": \"p\",}", "\u{feff}{}"] {
            bodies.append(("body \(raw.debugDescription)", Array(raw.utf8)))
        }
        return bodies
    }

    @Test("each hostile body is a 4xx with the error shape and no internals, and nothing is stored or queued")
    func bodies() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (user, key) = try await system.createUser(name: "hostile")
        let before = try await fingerprint(system.database, userID: user.id)
        for (label, body) in Self.bodies {
            for path in ["/images/generate", "/images/estimate"] {
                let response = try await system.client.send(CurlRequest(
                    method: "POST", url: system.apiBaseURL + path,
                    headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(key)")], body: body, timeoutMilliseconds: 10_000
                ))
                #expect((400..<500).contains(response.status), "\(label) on \(path): \(response.status)")
                let text = String(decoding: response.body, as: UTF8.self)
                let error = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["error"] as? [String: Any]
                #expect(error?["code"] is String && error?["message"] is String, "\(label) on \(path): \(text.prefix(200))")
                for leak in ["postgres", "SQL", "syntax error", "Fatal", "/work/", ".swift"] {
                    #expect(!text.contains(leak), "\(label) on \(path) leaks \(leak): \(text.prefix(300))")
                }
            }
        }
        #expect(try await fingerprint(system.database, userID: user.id) == before)
        #expect(try await system.queue.depth().ready == 0)
        let rows = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS n FROM tasks WHERE user_id = $1", [.text(user.id.uuidString)])
        }
        #expect(try rows.first?.int("n") == 0)
        #expect(try await system.request("GET", "/me/usage", key: key).status == 200)
    }

    @Test("SQL and shell text where text is allowed (prompt, user, Idempotency-Key) is stored byte for byte, never run")
    func storedVerbatim() async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "verbatim")
        for (index, text) in Self.sqlAndShell.enumerated() {
            let accepted = try await system.request(
                "POST", "/images/generate", key: key, body: String(decoding: Self.json(["prompt": text, "user": text]), as: UTF8.self),
                headers: [("Idempotency-Key", "k\(index)'--;$(x)")]
            )
            #expect(accepted.status == 202, "\(text)")
            let taskID = try #require(accepted.json["task_id"] as? String)
            let row = try await system.database.run { connection in
                try connection.query("SELECT prompt, end_user FROM tasks WHERE id = $1", [.text(taskID)])
            }
            #expect(try row.first?.string("prompt") == text)
            #expect(try row.first?.string("end_user") == text)
        }
        let tables = try await system.database.run { connection in
            try connection.query("SELECT count(*) AS n FROM pg_tables WHERE tablename IN ('tasks', 'users', 'charges', 'api_keys')")
        }
        #expect(try tables.first?.int("n") == 4)
    }

    @Test("hostile ids, positions, parameters and keys are 4xx too", arguments: [
        "/images/tasks/' OR 1=1 --/status", "/images/tasks/%27%20OR%201%3D1%20--/status", "/images/tasks/00000000-0000-0000-0000-000000000000/status",
        "/images/tasks/x;DROP/images/0", "/images/tasks/\(UUID())/images/9223372036854775808", "/images/tasks?limit=-1",
        "/images/tasks?limit=99999999999999999999", "/images/tasks?status=queued'--", "/images/tasks?cursor=%00",
        "/images/tasks/\(UUID())/status?wait=1e9",
    ])
    func parameters(path: String) async throws {
        let system = try await RunningSystem.start(worker: nil)
        defer { Task { await system.stop() } }
        let (_, key) = try await system.createUser(name: "hostile-parameters")
        let answer = try await system.request("GET", path.replacingOccurrences(of: " ", with: "%20"), key: key)
        #expect((400..<500).contains(answer.status), "\(path): \(answer.status)")
        #expect(answer.errorCode != nil)
        for hostileKey in ["ig_' OR '1'='1", "' OR 1=1 --", String(repeating: "ig_a", count: 10_000)] {
            #expect(try await system.request("GET", "/images/tasks", key: hostileKey).status == 401)
        }
    }

    /// The user's rows in every table a request could touch; other tests run at the same time, so only the user's own count.
    private func fingerprint(_ database: Database, userID: UUID) async throws -> [Int64] {
        try await database.run { connection in
            try ["tasks", "charges", "idempotency_keys", "reservations", "api_keys", "spend_periods"].map { table in
                try connection.query("SELECT count(*) AS n FROM \(table) WHERE user_id = $1", [.text(userID.uuidString)]).first?.int("n") ?? -1
            } + [try connection.query(
                "SELECT count(*) AS n FROM task_images i JOIN tasks t ON t.id = i.task_id WHERE t.user_id = $1", [.text(userID.uuidString)]
            ).first?.int("n") ?? -1]
        }
    }

    private static func json(_ object: [String: String?]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object.compactMapValues { $0 }, options: [.sortedKeys]))
    }
}

private extension Array where Element == UInt8 {
    /// `{"prompt": "p", "prompt": X}` would be a duplicate key; when the field under test is the prompt, drop the first.
    func replacingPrompt(if replace: Bool) -> [UInt8] {
        guard replace else { return self }
        return Array(String(decoding: self, as: UTF8.self).replacingOccurrences(of: #""prompt": "p", "#, with: "").utf8)
    }
}
