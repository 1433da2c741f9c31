import RedisClient
import Testing

@Suite("REDIS_URL parsing")
struct RedisURLTests {
    @Test func parsesFullAddress() throws {
        #expect(try RedisURL(parsing: "redis://:secret@cache.internal:6380/3") == RedisURL(host: "cache.internal", port: 6380, database: 3, password: "secret"))
        #expect(try RedisURL(parsing: "redis://localhost") == RedisURL(host: "localhost", port: 6379, database: 0))
        #expect(try RedisURL(parsing: "redis://:secret@h:1/0").description == "redis://:***@h:1/0")
    }

    @Test(arguments: ["http://x:1", "redis://", "redis://h:0", "redis://h:99999", "redis://h:1/x", "redis://h:abc"])
    func refuses(_ text: String) {
        #expect(throws: RedisError.self) { try RedisURL(parsing: text) }
    }
}
