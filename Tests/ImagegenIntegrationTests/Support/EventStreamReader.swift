import Foundation

/// Reads a server-sent event stream as it arrives, through `curl -N` writing to a file, so
/// that a test can act once an event has come instead of guessing how long that takes.
final class EventStreamReader: @unchecked Sendable {
    private let process: SpawnedProcess
    private let body: URL
    private let headers: URL

    init(url: String, key: String) throws {
        let folder = FileManager.default.temporaryDirectory
        body = folder.appendingPathComponent("imagegen-events-\(UUID().uuidString).txt")
        headers = folder.appendingPathComponent("imagegen-events-\(UUID().uuidString).headers")
        process = try SpawnedProcess("/usr/bin/curl", [
            "--silent", "--no-buffer", "--max-time", "120", "--header", "Authorization: Bearer \(key)",
            "--dump-header", headers.path, "--output", body.path, url,
        ], environment: SpawnedProcess.environment([:]))
    }

    var text: String { (try? String(contentsOf: body, encoding: .utf8)) ?? "" }

    /// The response's header fields, names in lower case.
    var headerFields: [String: String] {
        let lines = ((try? String(contentsOf: headers, encoding: .utf8)) ?? "").split(separator: "\r\n")
        return Dictionary(lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }, uniquingKeysWith: { _, last in last })
    }

    /// Every event received so far, in order: its name and the task its data holds.
    var events: [(name: String, task: [String: Any])] {
        text.components(separatedBy: "\n\n").compactMap { event in
            guard event.hasPrefix("event: "), let newline = event.firstIndex(of: "\n") else { return nil }
            let name = String(event[event.index(event.startIndex, offsetBy: "event: ".count)..<newline])
            let data = event[event.index(after: newline)...]
            guard data.hasPrefix("data: "),
                  let task = try? JSONSerialization.jsonObject(with: Data(data.dropFirst("data: ".count).utf8)) as? [String: Any] else {
                return nil
            }
            return (name, task)
        }
    }

    /// The `status` of every `event: status` received so far, in order.
    var statuses: [String] {
        events.filter { $0.name == "status" }.compactMap { $0.task["status"] as? String }
    }

    /// Waits until `condition` holds for the events received, or `timeout` (a liveness guard) passes.
    func waitForEvents(timeout: Duration = .seconds(60), _ condition: ([(name: String, task: [String: Any])]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(events) {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Waits until `condition` holds for the statuses received, or `timeout` (a liveness guard) passes.
    func waitForStatuses(timeout: Duration = .seconds(60), _ condition: ([String]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(statuses) {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Waits for the server to end the stream; false if it was still open after `timeout`.
    func waitForEnd(timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    deinit {
        process.signal(SIGTERM)
        try? FileManager.default.removeItem(at: body)
        try? FileManager.default.removeItem(at: headers)
    }
}
