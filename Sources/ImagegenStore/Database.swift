import BlockingIO
import Logging
import PostgresClient

/// The PostgreSQL connections of one process, each on its own blocking lane.
public final class Database: Sendable {
    private let pool: LanePool<PostgresConnection>

    public init(connectionString: String, connections: Int, logger: Logger) {
        pool = LanePool(
            label: "imagegen.postgres",
            resources: (0..<max(connections, 1)).map { _ in PostgresConnection(connectionString: connectionString, logger: logger) }
        )
    }

    /// Opens every connection now so that a bad DATABASE_URL fails at start.
    public func connect() async throws {
        for _ in 0..<pool.count {
            try await pool.withResource { try $0.connect() }
        }
    }

    /// Runs `body` with one connection on that connection's lane; batch statements in one call.
    @discardableResult
    public func run<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> Result) async throws -> Result {
        try await pool.withResource(body)
    }

    /// Checks that PostgreSQL answers, for readiness probes.
    public func ping() async throws {
        try await run { connection in _ = try connection.query("SELECT 1") }
    }

    /// Whether `error` means PostgreSQL could not be reached (down, restarting), so the
    /// same statement may succeed later.
    public static func isUnavailable(_ error: any Error) -> Bool {
        (error as? PostgresError)?.kind == .connection
    }

    /// Whether the same transaction may succeed if run again: PostgreSQL was unreachable, or it
    /// gave up on this try (serialization failure, deadlock, lock or statement timeout).
    public static func isTransient(_ error: any Error) -> Bool {
        (error as? PostgresError)?.isTransient == true
    }

    /// Runs `body` in one transaction on one connection.
    @discardableResult
    public func transaction<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> Result) async throws -> Result {
        try await pool.withResource { connection in try connection.transaction(body) }
    }
}

/// SQL that renders a timestamptz column as RFC 3339 UTC text, e.g. `2026-11-21T10:00:00.123Z`.
func rfc3339(_ column: String) -> String {
    "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
}
