import Foundation
import Logging
import PostgresClient
import Synchronization

/// Wakes whoever waits on a task when PostgreSQL reports that the task changed.
///
/// A trigger on `tasks` sends the task id with NOTIFY on every change of status,
/// attempt, cancel request or image purge. One connection per process LISTENs on a
/// thread of its own, so long polls and event streams cost no queries while they wait.
/// It is a plain thread, not a lane: it blocks for as long as the process runs, and a
/// Dispatch worker held that long would be one fewer for every other blocking call.
///
/// A quiet connection may be a dead one (a failover, a firewall dropping idle flows) that
/// would never deliver another notification: after `probeInterval` without traffic it sends
/// `SELECT 1`, and tight keepalives and a TCP user timeout make a dead peer an error within
/// about 25 s. It then listens again on a new connection and wakes every waiter to re-read.
public final class TaskChangeListener: Sendable {
    static let channel = "imagegen_task_changes"
    static let probeInterval = Duration.seconds(10)

    /// Names the listening connection in `pg_stat_activity`.
    public let applicationName = "imagegen-listen-\(UUID().uuidString.prefix(8).lowercased())"
    private let connection: PostgresConnection
    private let watches = Mutex<[UUID: [ObjectIdentifier: TaskWatch]]>([:])
    private let stopping = Atomic<Bool>(false)
    private let logger: Logger

    public init(connectionString: String, logger: Logger) {
        self.connection = PostgresConnection(
            connectionString: connectionString,
            settings: [
                ("application_name", applicationName), ("keepalives_idle", "5"), ("keepalives_interval", "5"),
                ("keepalives_count", "2"), ("tcp_user_timeout", "10000"),
            ],
            logger: logger
        )
        self.logger = logger
    }

    /// Starts watching `taskID`. Watch before reading the task, so that a change between
    /// the read and the wait is not missed; close the watch when done.
    public func watch(_ taskID: UUID) -> TaskWatch {
        let watch = TaskWatch(taskID: taskID) { [weak self] watch in self?.remove(watch) }
        watches.withLock { $0[taskID, default: [:]][ObjectIdentifier(watch)] = watch }
        return watch
    }

    /// Listens until cancelled.
    public func run() async {
        stopping.store(false, ordering: .relaxed)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    listen()
                    finished.resume()
                }
                thread.name = "imagegen.postgres.listen"
                thread.start()
            }
        } onCancel: {
            stopping.store(true, ordering: .relaxed)
        }
    }

    /// The blocking loop. After a lost connection it listens again and wakes every watch,
    /// since changes made meanwhile were not reported.
    private func listen() {
        var listening = false
        var lastHeard = ContinuousClock.now
        while !stopping.load(ordering: .relaxed) {
            do {
                if !listening {
                    try connection.query("LISTEN \(Self.channel)")
                    listening = true
                    lastHeard = .now
                    wakeAll()
                }
                let payloads = try connection.notifications(waitingUpTo: 250)
                for payload in payloads {
                    if let taskID = UUID(uuidString: payload) { wake(taskID) }
                }
                if !payloads.isEmpty {
                    lastHeard = .now
                } else if ContinuousClock.now - lastHeard > Self.probeInterval {
                    try connection.query("SELECT 1")
                    lastHeard = .now
                }
            } catch {
                if listening { logger.warning("lost the task change notifications; listening again", metadata: ["error": "\(error)"]) }
                listening = false
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    private func wake(_ taskID: UUID) {
        let woken = watches.withLock { $0[taskID].map { Array($0.values) } ?? [] }
        woken.forEach { $0.signal() }
    }

    private func wakeAll() {
        let woken = watches.withLock { $0.values.flatMap(\.values) }
        woken.forEach { $0.signal() }
    }

    private func remove(_ watch: TaskWatch) {
        watches.withLock { watches in
            watches[watch.taskID]?[ObjectIdentifier(watch)] = nil
            if watches[watch.taskID]?.isEmpty == true { watches[watch.taskID] = nil }
        }
    }
}
