import CLibpq
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// One libpq connection that reconnects by itself after the server goes away.
///
/// Not thread-safe: it is confined to one `BlockingLane`, which is why it can be
/// `@unchecked Sendable`. Every call blocks.
public final class PostgresConnection: @unchecked Sendable {
    private let connectionString: String
    /// Settings that win even over the connection string's, for connections whose job needs them.
    private let settings: [(String, String)]
    private let logger: Logger
    private var connection: OpaquePointer?
    private var hasConnectedBefore = false
    /// Statements prepared on this connection, by their SQL: parsed and planned once, not on
    /// every call, which was most of PostgreSQL's CPU for our short statements.
    private var prepared: [String: String] = [:]
    /// Enough for every fixed statement the code has; beyond it, statements run unprepared.
    private static let preparedLimit = 512

    /// - Parameters:
    ///   - connectionString: a libpq keyword string or a `postgresql://` URI.
    ///   - settings: libpq keywords applied over the connection string.
    public init(connectionString: String, settings: [(String, String)] = [], logger: Logger) {
        self.connectionString = connectionString
        self.settings = settings
        self.logger = logger
    }

    deinit {
        if let connection { PQfinish(connection) }
    }

    /// Connects now, so that a bad DATABASE_URL is reported at start rather than on first use.
    public func connect() throws {
        _ = try liveConnection()
    }

    /// Runs one parameterised statement.
    ///
    /// - Parameters:
    ///   - binaryResult: ask for binary columns, used for bytea so that images
    ///     are not hex-encoded on the wire.
    ///   - prepare: keep the statement prepared for its next run; pass false for SQL whose
    ///     text seldom recurs (a batch's `VALUES` list of one particular length).
    @discardableResult
    public func query(
        _ sql: String, _ parameters: [PostgresValue] = [], binaryResult: Bool = false, prepare: Bool = true
    ) throws -> PostgresRows {
        let connection = try liveConnection()
        let name = prepare ? try preparedName(of: sql, parameterCount: parameters.count, on: connection) : nil
        let result = execute(sql, name: name, parameters, binaryResult: binaryResult, on: connection)
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            return Self.rows(of: result)
        default:
            throw Self.failure(of: result, on: connection)
        }
    }

    /// Runs several `;`-separated statements without parameters, such as a migration file.
    public func execute(script: String) throws {
        let connection = try liveConnection()
        let result = PQexec(connection, script)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            throw Self.failure(of: result, on: connection)
        }
    }

    /// Runs `body` inside BEGIN/COMMIT, rolling back when it throws.
    public func transaction<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        try query("BEGIN")
        do {
            let result = try body(self)
            try query("COMMIT")
            return result
        } catch {
            _ = try? query("ROLLBACK", prepare: false)
            throw error
        }
    }

    /// Waits up to `timeoutMilliseconds` for notifications on the channels this connection
    /// LISTENs to and returns their payloads, oldest first; empty when none came.
    ///
    /// It never reconnects, because a fresh connection would listen to nothing: a lost
    /// connection throws, and the caller LISTENs again on the next `query`.
    public func notifications(waitingUpTo timeoutMilliseconds: Int32) throws -> [String] {
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            throw PostgresError(.connection, "not connected")
        }
        var payloads = try Self.pendingNotifications(on: connection)
        guard payloads.isEmpty else { return payloads }
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, timeoutMilliseconds) >= 0 || errno == EINTR else {
            throw PostgresError(.connection, "poll failed on the PostgreSQL socket")
        }
        payloads = try Self.pendingNotifications(on: connection)
        return payloads
    }

    private static func pendingNotifications(on connection: OpaquePointer) throws -> [String] {
        guard PQconsumeInput(connection) == 1 else {
            throw PostgresError(.connection, trimmed(String(cString: PQerrorMessage(connection))))
        }
        var payloads: [String] = []
        while let notification = PQnotifies(connection) {
            payloads.append(String(cString: notification.pointee.extra))
            PQfreemem(notification)
        }
        return payloads
    }

    /// The name `sql` is prepared under on this connection, preparing it first if there is room.
    private func preparedName(of sql: String, parameterCount: Int, on connection: OpaquePointer) throws -> String? {
        if let name = prepared[sql] { return name }
        guard prepared.count < Self.preparedLimit else { return nil }
        let name = "imagegen_\(prepared.count)"
        let result = PQprepare(connection, name, sql, Int32(parameterCount), nil)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw Self.failure(of: result, on: connection) }
        prepared[sql] = name
        return name
    }

    private func execute(
        _ sql: String, name: String?, _ parameters: [PostgresValue], binaryResult: Bool, on connection: OpaquePointer
    ) -> OpaquePointer? {
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for parameter in parameters {
            switch parameter {
            case .null:
                buffers.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                buffers.append(strdup(text))
                lengths.append(0)
                formats.append(0)
            case .bytes(let bytes):
                let buffer = malloc(max(bytes.count, 1))!
                bytes.withUnsafeBytes { source in
                    if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: bytes.count) }
                }
                buffers.append(buffer.assumingMemoryBound(to: CChar.self))
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }
        defer { buffers.forEach { free($0) } }
        let values = buffers.map { UnsafePointer($0) }
        return values.withUnsafeBufferPointer { values in
            lengths.withUnsafeBufferPointer { lengths in
                formats.withUnsafeBufferPointer { formats in
                    if let name {
                        return PQexecPrepared(
                            connection, name, Int32(parameters.count), values.baseAddress, lengths.baseAddress, formats.baseAddress,
                            binaryResult ? 1 : 0
                        )
                    }
                    return PQexecParams(
                        connection, sql, Int32(parameters.count), nil,
                        values.baseAddress, lengths.baseAddress, formats.baseAddress,
                        binaryResult ? 1 : 0
                    )
                }
            }
        }
    }

    private func liveConnection() throws -> OpaquePointer {
        if let connection, PQstatus(connection) == CONNECTION_OK { return connection }
        if let connection {
            PQfinish(connection)
            self.connection = nil
        }
        guard let fresh = Self.connect(connectionString, settings: settings) else {
            throw PostgresError(.connection, "cannot allocate a connection")
        }
        guard PQstatus(fresh) == CONNECTION_OK else {
            let message = Self.trimmed(String(cString: PQerrorMessage(fresh)))
            PQfinish(fresh)
            throw PostgresError(.connection, message)
        }
        imagegen_pq_silence_notices(fresh)
        connection = fresh
        prepared = [:]
        if hasConnectedBefore {
            logger.notice("reconnected to PostgreSQL")
        }
        hasConnectedBefore = true
        return fresh
    }

    /// Settings every connection gets unless its connection string says otherwise: a server
    /// that does not answer, a peer that vanished, a statement or a lock wait that never ends,
    /// and a transaction left open all end in an error instead of a hang.
    static let defaults: [(String, String)] = [
        ("connect_timeout", "5"),
        ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3"),
        ("options", "-c statement_timeout=60s -c lock_timeout=10s -c idle_in_transaction_session_timeout=60s"),
    ]

    /// `defaults` first, then the connection string expanded over them (what it sets wins over
    /// the defaults), then `settings`.
    private static func connect(_ connectionString: String, settings: [(String, String)]) -> OpaquePointer? {
        let entries = defaults + [("dbname", connectionString)] + settings
        let keywords = entries.map { strdup($0.0) }
        let values = entries.map { strdup($0.1) }
        defer { (keywords + values).forEach { free($0) } }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        return PQconnectdbParams(keywordPointers, valuePointers, 1)
    }

    /// A lost connection is a `.connection` error, so callers can tell it from a rejected statement.
    private static func failure(of result: OpaquePointer?, on connection: OpaquePointer) -> PostgresError {
        let resultMessage = result.map { String(cString: PQresultErrorMessage($0)) } ?? ""
        let message = trimmed(resultMessage.isEmpty ? String(cString: PQerrorMessage(connection)) : resultMessage)
        if PQstatus(connection) != CONNECTION_OK {
            return PostgresError(.connection, message)
        }
        let sqlState = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
        return PostgresError(.statement, message, sqlState: sqlState)
    }

    private static func rows(of result: OpaquePointer?) -> PostgresRows {
        guard let result else { return PostgresRows(columns: [], rows: [], affectedRows: 0) }
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[[UInt8]?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [[UInt8]?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                    continue
                }
                let length = Int(PQgetlength(result, Int32(row), Int32(column)))
                let pointer = PQgetvalue(result, Int32(row), Int32(column))!
                values.append(pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                    Array(UnsafeBufferPointer(start: $0, count: length))
                })
            }
            rows.append(values)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, rows: rows, affectedRows: affected)
    }

    /// libpq's messages span several lines; errors here are reported on one.
    private static func trimmed(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline)
            .map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}
