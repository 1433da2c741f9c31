import Foundation
import PostgresClient
import RedisClient
import Testing

@Suite("The C wrappers reconnect after the server drops them")
struct ReconnectTests {
    @Test("a Redis connection killed by the server works again on the next command")
    func redisReconnects() async throws {
        let url = try TestEnvironment.redisURL()
        let connection = RedisConnection(url: url, logger: TestEnvironment.logger)
        let id = try #require(try connection.command(["CLIENT", "ID"]).integer)
        let killer = RedisConnection(url: url, logger: TestEnvironment.logger)
        #expect(try killer.command(["CLIENT", "KILL", "ID", String(id)]).integer == 1)
        #expect(throws: RedisError.self) { try connection.command(["PING"]) }
        #expect(try connection.command(["PING"]).text == "PONG")
    }

    @Test("a PostgreSQL connection terminated by the server works again on the next statement")
    func postgresReconnects() async throws {
        let connection = PostgresConnection(connectionString: try TestEnvironment.databaseURL(), logger: TestEnvironment.logger)
        let pid = try connection.query("SELECT pg_backend_pid() AS pid").first!.int("pid")
        let killer = PostgresConnection(connectionString: try TestEnvironment.databaseURL(), logger: TestEnvironment.logger)
        #expect(try killer.query("SELECT pg_terminate_backend($1) AS done", [.int(pid)]).first!.bool("done"))
        #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        #expect(try connection.query("SELECT 41 + 1 AS answer").first!.int("answer") == 42)
    }

    @Test("bytea round-trips byte for byte, NUL bytes included")
    func byteaRoundTrip() async throws {
        let connection = PostgresConnection(connectionString: try TestEnvironment.databaseURL(), logger: TestEnvironment.logger)
        let bytes: [UInt8] = [0, 1, 2, 0, 255, 92, 120, 0]
        let rows = try connection.query("SELECT $1::bytea AS value", [.bytes(bytes)], binaryResult: true)
        #expect(try rows.first?.optionalBytes("value") == bytes)
    }
}
