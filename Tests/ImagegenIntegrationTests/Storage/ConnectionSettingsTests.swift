import Foundation
import ImagegenStore
import PostgresClient
import Testing

@Suite("Every PostgreSQL connection ends a hang in an error: timeouts and keepalives, unless the URL says otherwise")
struct ConnectionSettingsTests {
    private func setting(_ name: String, on connection: PostgresConnection) throws -> String? {
        try connection.query("SELECT current_setting($1) AS value", [.text(name)]).first?.string("value")
    }

    @Test("statement, lock and idle-in-transaction timeouts are set on every connection")
    func timeoutsByDefault() throws {
        let connection = PostgresConnection(connectionString: try TestEnvironment.databaseURL(), logger: TestEnvironment.logger)
        #expect(try setting("statement_timeout", on: connection) == "1min")
        #expect(try setting("lock_timeout", on: connection) == "10s")
        #expect(try setting("idle_in_transaction_session_timeout", on: connection) == "1min")
    }

    @Test("what the connection string sets wins over the defaults")
    func connectionStringWins() throws {
        let url = try TestEnvironment.databaseURL() + "?options=-c%20lock_timeout%3D250"
        let connection = PostgresConnection(connectionString: url, logger: TestEnvironment.logger)
        #expect(try setting("lock_timeout", on: connection) == "250ms")
    }

    @Test("a lock held past lock_timeout is an error that may succeed on another try")
    func lockTimeoutIsTransient() throws {
        let url = try TestEnvironment.databaseURL()
        let holder = PostgresConnection(connectionString: url, logger: TestEnvironment.logger)
        let waiter = PostgresConnection(connectionString: url + "?options=-c%20lock_timeout%3D100", logger: TestEnvironment.logger)
        let key = Int64.random(in: 1...Int64.max)
        try holder.query("BEGIN")
        try holder.query("SELECT pg_advisory_xact_lock($1)", [.int(key)])
        defer { _ = try? holder.query("ROLLBACK") }
        let error = #expect(throws: PostgresError.self) { try waiter.query("SELECT pg_advisory_lock($1)", [.int(key)]) }
        #expect(error?.sqlState == "55P03")
        #expect(error.map(Database.isTransient) == true)
        #expect(Database.isTransient(PostgresError(.statement, "could not serialize", sqlState: "40001")))
        #expect(Database.isTransient(PostgresError(.statement, "deadlock detected", sqlState: "40P01")))
        #expect(!Database.isTransient(PostgresError(.statement, "duplicate key", sqlState: "23505")))
    }
}
