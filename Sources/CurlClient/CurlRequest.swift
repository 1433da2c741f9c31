/// An HTTP request for `CurlMultiClient`.
public struct CurlRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The whole exchange must end within this time.
    public var timeoutMilliseconds: Int
    public var connectTimeoutMilliseconds: Int
    /// A longer response body ends the transfer with a `tooLarge` error; nil for no limit.
    public var maxResponseBytes: Int?
    /// Told each piece of the response body as it arrives, for an answer streamed as it is made
    /// (Server-Sent Events); the whole body still comes with the response. Called on the client's
    /// driver thread: it must only hand the bytes on, never block.
    public var onBody: (@Sendable ([UInt8]) -> Void)?

    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        timeoutMilliseconds: Int = 60_000,
        connectTimeoutMilliseconds: Int = 5_000,
        maxResponseBytes: Int? = nil,
        onBody: (@Sendable ([UInt8]) -> Void)? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.maxResponseBytes = maxResponseBytes
        self.onBody = onBody
    }
}

/// What the server answered.
public struct CurlResponse: Sendable {
    public let status: Int
    /// Header names are lower-cased; a repeated header keeps its last value.
    public let headers: [String: String]
    public let body: [UInt8]
    /// curl's own count of the exchange, from starting the request to the last byte of the
    /// answer (`CURLINFO_TOTAL_TIME_T`): the caller's wait for its task to resume is not in it.
    public let exchangeTime: Duration
    /// Connections opened for this exchange: 0 when it went over one already open.
    public let newConnections: Int
}

/// A transfer that ended without an HTTP response.
public struct CurlError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case timeout
        case connect
        case transfer
        /// The response body passed the request's `maxResponseBytes`.
        case tooLarge
    }

    public let kind: Kind
    public let code: Int
    public let message: String
    /// Whether any of the request reached the server: if it did, the server may have acted on it.
    public let requestSent: Bool

    public var description: String { "curl \(kind.rawValue) error \(code): \(message)" }
}
