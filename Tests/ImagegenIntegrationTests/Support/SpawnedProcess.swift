import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`. Foundation's `Process.run()` on Linux reads
/// past the end of a buffer while it lists `/proc/self/fd`, and now and then crashes the
/// whole test run with SIGSEGV (swift-corelibs-foundation pull request 5472; Swift 6.3.1 has
/// the bug, and a repeated run here hit it), so the tests start their processes this way.
final class SpawnedProcess: Sendable {
    let pid: pid_t
    /// The raw `waitpid` status once the process has been reaped.
    private let reaped = Mutex<Int32?>(nil)

    /// Starts `executable` with standard input from /dev/null and standard output and error
    /// appended to the given files; no other descriptor of the test process is passed on.
    init(_ executable: String, _ arguments: [String], environment: [String: String], output: String = "/dev/null", error: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, error, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        _ = Self.closeFrom(&actions, 3)
        // The spawning thread blocks signals (the Swift runtime's threads do) and a child would
        // inherit that mask: SIGTERM would then never reach it. Start it as Foundation does,
        // with no signal blocked and every handler at its default.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw TestEnvironment.Missing(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc
    /// module does not declare: without it a child would inherit the test process's sockets.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("glibc 2.34 or later is needed: posix_spawn_file_actions_addclosefrom_np is missing")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// The test process's environment with `overrides` applied.
    static func environment(_ overrides: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(overrides) { _, new in new }
    }

    var isRunning: Bool { reap(blocking: false) == nil }

    /// The exit code, or the signal that ended the process; nil while it runs.
    var terminationStatus: Int32? { reap(blocking: false).map(Self.decode) }

    /// Waits for the process to end and returns its exit code or the signal that ended it.
    func waitUntilExit() -> Int32 { Self.decode(reap(blocking: true)!) }

    func signal(_ signal: Int32) {
        if isRunning { Glibc.kill(pid, signal) }
    }

    private func reap(blocking: Bool) -> Int32? {
        reaped.withLock { reaped in
            if reaped == nil {
                var status: Int32 = 0
                var result: pid_t
                repeat { result = waitpid(pid, &status, blocking ? 0 : WNOHANG) } while result == -1 && errno == EINTR
                if result == pid { reaped = status }
            }
            return reaped
        }
    }

    /// `WIFEXITED`/`WEXITSTATUS`/`WTERMSIG`, which are macros Swift cannot call.
    private static func decode(_ status: Int32) -> Int32 {
        status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    }
}
