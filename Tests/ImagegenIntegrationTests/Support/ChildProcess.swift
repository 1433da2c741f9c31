import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The built `imagegen` binary run as a separate process, as operators run it.
final class ChildProcess: @unchecked Sendable {
    private let process: SpawnedProcess
    private let errorFile: URL

    static func binary() throws -> URL {
        URL(fileURLWithPath: try TestEnvironment.variable("IMAGEGEN_BINARY"))
    }

    init(_ arguments: [String], environment: [String: String]) throws {
        errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-\(UUID().uuidString).log")
        process = try SpawnedProcess(
            try Self.binary().path, arguments, environment: SpawnedProcess.environment(environment), error: errorFile.path
        )
    }

    var log: String { (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    /// The most memory the process has held resident so far (VmHWM), in bytes.
    var peakResidentBytes: Int? {
        let status = (try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
        return kilobytes * 1024
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to end; returns its exit status.
    func terminate(timeout: Duration = .seconds(10)) async -> Int32? {
        process.signal(SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            process.signal(SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    /// Kills the process with SIGKILL, as a crash or an OOM kill would, and waits for it to end.
    func kill() async {
        process.signal(SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    deinit {
        if process.isRunning {
            process.signal(SIGKILL)
            _ = process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: errorFile)
    }

    /// Runs a command (imagegen unless `executable` names another program) to completion and
    /// returns its exit status, standard output and standard error.
    ///
    /// The wait happens on a thread of its own: blocking a thread of the Swift concurrency pool
    /// (two on this machine) would stall the in-process servers other tests are talking to.
    static func run(
        _ arguments: [String], environment: [String: String], executable: URL? = nil
    ) async throws -> (status: Int32, output: String, error: String) {
        let executable = try executable ?? binary()
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(arguments, environment: environment, executable: executable) })
            }
        }
    }

    private static func runBlocking(
        _ arguments: [String], environment: [String: String], executable: URL
    ) throws -> (status: Int32, output: String, error: String) {
        let folder = FileManager.default.temporaryDirectory
        let output = folder.appendingPathComponent("imagegen-run-\(UUID().uuidString).out")
        let error = folder.appendingPathComponent("imagegen-run-\(UUID().uuidString).err")
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: error)
        }
        let process = try SpawnedProcess(
            executable.path, arguments, environment: SpawnedProcess.environment(environment), output: output.path, error: error.path
        )
        let status = process.waitUntilExit()
        let read = { (file: URL) in (try? String(contentsOf: file, encoding: .utf8)) ?? "" }
        return (status, read(output), read(error))
    }

    /// A TCP port that was free a moment ago, for a child server to bind.
    /// A port below Linux's ephemeral range (32768 and up), where the servers other tests bind
    /// to port 0 never land: a child process may inherit such a server's listening socket and
    /// keep the port answering nothing after the server closed it.
    static func freePort() throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<32_000)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    bind(descriptor, generic, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if bound { return port }
        }
        throw TestEnvironment.Missing(description: "no free port from 20000 to 31999")
    }
}
