import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL and a Redis server of the chaos run's own, started, crashed and
/// restarted through the same shell functions that `scripts/test` and `scripts/dev` use.
final class ChaosServers: Sendable {
    let postgresPort: Int
    let redisPort: Int
    private let postgresDirectory: String
    private let redisDirectory: String
    private let services: String

    init() throws {
        let root = URL(fileURLWithPath: try TestEnvironment.migrationsDirectory()).deletingLastPathComponent().path
        let run = "chaos-\(UUID().uuidString.prefix(8).lowercased())"
        services = root + "/scripts/lib/services.sh"
        postgresDirectory = root + "/.local/\(run)/postgres"
        redisDirectory = root + "/.local/\(run)/redis"
        postgresPort = try ChildProcess.freePort()
        redisPort = try ChildProcess.freePort()
    }

    var databaseURL: String { "postgresql://postgres@127.0.0.1:\(postgresPort)/imagegen_chaos" }
    var redisURL: String { "redis://127.0.0.1:\(redisPort)/0" }

    func start() async throws {
        try await shell("start_postgres", postgresDirectory, String(postgresPort))
        try await shell("create_database", String(postgresPort), "imagegen_chaos")
        try await shell("start_redis", redisDirectory, String(redisPort))
    }

    /// Kills Redis with SIGKILL and starts it again on its append-only file.
    func crashAndRestartRedis() async throws {
        try await shell("eval", "kill -9 $(cat \(redisDirectory)/redis.pid); while redis-cli -p \(redisPort) ping >/dev/null 2>&1; do sleep 0.05; done")
        try await shell("start_redis", redisDirectory, String(redisPort))
    }

    func flushRedis() async throws {
        try await shell("eval", "redis-cli -p \(redisPort) flushall >/dev/null")
    }

    func restartPostgres() async throws {
        try await shell("stop_postgres", postgresDirectory)
        try await shell("start_postgres", postgresDirectory, String(postgresPort))
    }

    func stop() async {
        try? await shell("stop_redis", String(redisPort))
        try? await shell("stop_postgres", postgresDirectory)
        try? await shell("eval", "rm -rf \"$(postgres_data_dir \(postgresDirectory))\"")
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: postgresDirectory).deletingLastPathComponent().path)
    }

    /// Waits on a thread of its own, off the concurrency pool; `SpawnedProcess` passes the
    /// daemon it may start no descriptor of ours.
    private func shell(_ arguments: String...) async throws {
        let argv = ["/bin/bash", "-c", "set -e; source \"$0\"; \"$@\"", services] + arguments
        let status = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Self.spawnAndWait(argv)) }.start()
        }
        guard status == 0 else {
            throw TestEnvironment.Missing(description: "chaos server command failed: \(arguments.joined(separator: " "))")
        }
    }

    private static func spawnAndWait(_ argv: [String]) -> Int32 {
        (try? SpawnedProcess(argv[0], Array(argv.dropFirst()), environment: SpawnedProcess.environment([:])).waitUntilExit()) ?? -1
    }
}
