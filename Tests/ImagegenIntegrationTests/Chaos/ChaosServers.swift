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

    /// Runs through posix_spawn rather than Foundation's Process: Process learns that a child
    /// ended when a descriptor the child inherited closes, and a server the child starts as a
    /// daemon keeps that descriptor open for its whole life.
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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return status
    }
}
