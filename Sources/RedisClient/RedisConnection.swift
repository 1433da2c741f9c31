import CHiredis
import Logging

/// One hiredis connection that reconnects by itself after the server goes away.
///
/// Not thread-safe: it is confined to one `BlockingLane`, which is why it can be
/// `@unchecked Sendable`. Every call blocks.
public final class RedisConnection: @unchecked Sendable {
    public let url: RedisURL
    private let timeoutSeconds: Int
    private let logger: Logger
    private var context: UnsafeMutablePointer<redisContext>?
    private var hasConnectedBefore = false
    private var scriptDigests: [String: String] = [:]

    /// - Parameter timeoutSeconds: socket timeout; blocking commands must wait for less than this.
    public init(url: RedisURL, timeoutSeconds: Int = 10, logger: Logger) {
        self.url = url
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Connects now, so that a bad REDIS_URL is reported at start rather than on first use.
    public func connect() throws {
        _ = try liveContext()
    }

    /// Sends one command and waits for its reply.
    @discardableResult
    public func command(_ arguments: [String]) throws -> RedisValue {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends one command whose arguments are raw bytes and waits for its reply.
    @discardableResult
    public func command(_ arguments: [[UInt8]]) throws -> RedisValue {
        let context = try liveContext()
        let reply = send(arguments, on: context)
        guard let reply else {
            let message = String(cString: imagegen_redis_errstr(context))
            dropConnection()
            throw RedisError(.connection, message.isEmpty ? "connection lost" : message)
        }
        defer { freeReplyObject(reply) }
        return try Self.value(of: reply.assumingMemoryBound(to: redisReply.self))
    }

    /// Runs a Lua script by digest, loading it first when this server has not seen it.
    ///
    /// Every multi-key queue step is one script, so it is atomic on the server.
    @discardableResult
    public func evaluate(_ script: String, keys: [String], arguments: [String]) throws -> RedisValue {
        let tail = [String(keys.count)] + keys + arguments
        for _ in 0..<2 {
            let digest: String
            if let known = scriptDigests[script] {
                digest = known
            } else {
                guard let loaded = try command(["SCRIPT", "LOAD", script]).text else {
                    throw RedisError(.reply, "SCRIPT LOAD returned no digest")
                }
                scriptDigests[script] = loaded
                digest = loaded
            }
            do {
                return try command(["EVALSHA", digest] + tail)
            } catch let error as RedisError where error.isMissingScript {
                scriptDigests[script] = nil
            }
        }
        throw RedisError(.reply, "NOSCRIPT after reloading the script")
    }

    private func send(_ arguments: [[UInt8]], on context: UnsafeMutablePointer<redisContext>) -> UnsafeMutableRawPointer? {
        let lengths = arguments.map(\.count)
        let buffers = arguments.map { bytes -> UnsafeMutablePointer<CChar> in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { chars in
                    if let base = chars.baseAddress { buffer.initialize(from: base, count: chars.count) }
                }
            }
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var pointers: [UnsafePointer<CChar>?] = buffers.map { UnsafePointer($0) }
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { argvlen in
                redisCommandArgv(context, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
            }
        }
    }

    private func liveContext() throws -> UnsafeMutablePointer<redisContext> {
        if let context, imagegen_redis_err(context) == 0 { return context }
        dropConnection()
        let timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard let fresh = redisConnectWithTimeout(url.host, Int32(url.port), timeout) else {
            throw RedisError(.connection, "cannot allocate a connection to \(url)")
        }
        if imagegen_redis_err(fresh) != 0 {
            let message = String(cString: imagegen_redis_errstr(fresh))
            redisFree(fresh)
            throw RedisError(.connection, "cannot connect to \(url): \(message)")
        }
        redisSetTimeout(fresh, timeout)
        redisEnableKeepAlive(fresh)
        context = fresh
        do {
            if let password = url.password { try command(["AUTH", password]) }
            if url.database != 0 { try command(["SELECT", String(url.database)]) }
        } catch {
            dropConnection()
            throw error
        }
        if hasConnectedBefore {
            logger.notice("reconnected to Redis", metadata: ["redis": "\(url)"])
        }
        hasConnectedBefore = true
        return fresh
    }

    private func dropConnection() {
        if let context { redisFree(context) }
        context = nil
    }

    private static func value(of reply: UnsafeMutablePointer<redisReply>) throws -> RedisValue {
        let node = reply.pointee
        switch Int32(node.type) {
        case REDIS_REPLY_STRING:
            return .string(bytes(node.str, node.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(node.str, node.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            throw RedisError(.reply, String(decoding: bytes(node.str, node.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var values: [RedisValue] = []
            values.reserveCapacity(Int(node.elements))
            for index in 0..<Int(node.elements) {
                guard let element = node.element[index] else { values.append(.null); continue }
                values.append(try value(of: element))
            }
            return .array(values)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}
