/// A parsed `redis://[:password@]host[:port][/db]` address.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: Int
    public var password: String?

    public init(host: String = "127.0.0.1", port: Int = 6379, database: Int = 0, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.password = password
    }

    public init(parsing text: String) throws {
        guard text.hasPrefix("redis://") else {
            throw RedisError(.invalidURL, "expected redis://host:port/db, got \(text)")
        }
        var rest = Substring(text.dropFirst("redis://".count))
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            password = credentials.split(separator: ":", maxSplits: 1).last.map(String.init)
            rest = rest[rest.index(after: at)...]
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let databaseText = rest[rest.index(after: slash)...]
            if !databaseText.isEmpty {
                guard let parsed = Int(databaseText), parsed >= 0 else {
                    throw RedisError(.invalidURL, "database number in \(text) is not a whole number")
                }
                database = parsed
            }
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            guard let parsed = Int(rest[rest.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw RedisError(.invalidURL, "port in \(text) is not a number from 1 to 65535")
            }
            port = parsed
            host = String(rest[..<colon])
        }
        guard !host.isEmpty else { throw RedisError(.invalidURL, "no host in \(text)") }
        self.init(host: host, port: port, database: database, password: password)
    }

    public var description: String {
        "redis://\(password == nil ? "" : ":***@")\(host):\(port)/\(database)"
    }
}
