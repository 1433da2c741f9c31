import CCurl
import Foundation
import Synchronization

/// An HTTP client on libcurl's multi interface: one driver thread carries every
/// transfer, so thousands can be in flight without a thread each.
public final class CurlMultiClient: Sendable {
    private let driver: CurlDriver

    /// - Parameter connections: how many connections the client keeps open to be used again,
    ///   busy or idle: at least as many as it has requests in flight. With curl's default, four
    ///   per transfer in flight at the moment one ends, every ebb of a burst closed connections
    ///   the next burst had to open again (a worker with 64 calls in flight: one new connection
    ///   every six calls, each a TLS handshake to a real provider).
    public init(connections: Int = 64) {
        _ = Self.globalInit
        driver = CurlDriver(connections: connections)
        let thread = Thread { [driver] in driver.run() }
        thread.name = "imagegen-curl"
        thread.start()
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends `request` and suspends until the response, a timeout or a connection error.
    /// Cancelling the calling task aborts the transfer and throws `CancellationError`.
    public func send(_ request: CurlRequest) async throws -> CurlResponse {
        let ticket = driver.issueTicket()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                driver.submit(CurlTransfer(ticket: ticket, request: request, continuation: continuation))
            }
        } onCancel: {
            driver.cancel(ticket)
        }
    }

    /// Transfers submitted and not yet finished.
    public var inFlight: Int { driver.inFlight }

    /// Stops the driver thread after in-flight transfers are abandoned with an error.
    public func shutdown() { driver.stop() }
}

/// Owns the multi handle; only the driver thread touches it after `init`.
///
/// The thread waits in `epoll` for the sockets curl asks it to watch and hands curl only
/// the ones that are ready (`curl_multi_socket_action`), so each event costs the same
/// with ten transfers in flight or a thousand; polling every socket on every wake-up did
/// not (a worker with 1,000 calls in flight spent a quarter of its time in `poll`).
private final class CurlDriver: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private struct Tickets {
        var next = 0
        var live: Set<Int> = []
        var cancelled: Set<Int> = []
    }

    private let pending = Mutex<[CurlTransfer]>([])
    private let stopping = Mutex(false)
    private let count = Mutex(0)
    private let tickets = Mutex(Tickets())
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private let poller: Int32
    /// Written to wake the driver thread: a submission, a cancellation or a stop.
    private let wakeup: Int32
    /// When curl wants `CURL_SOCKET_TIMEOUT` handled next, in `DispatchTime` nanoseconds.
    private var timerDeadline: UInt64?

    init(connections: Int) {
        multi = curl_multi_init()!
        imagegen_curl_multi_set_long(multi, CURLMOPT_MAXCONNECTS, max(connections, 1))
        poller = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeup = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(poller >= 0 && wakeup >= 0, "cannot create the HTTP client's epoll and eventfd descriptors")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeup
        epoll_ctl(poller, EPOLL_CTL_ADD, wakeup, &event)
        let context = Unmanaged.passUnretained(self).toOpaque()
        imagegen_curl_multi_set_pointer(multi, CURLMOPT_SOCKETDATA, context)
        imagegen_curl_multi_set_pointer(multi, CURLMOPT_TIMERDATA, context)
        imagegen_curl_multi_set_socket_callback(multi) { _, socket, what, context, _ in
            Unmanaged<CurlDriver>.fromOpaque(context!).takeUnretainedValue().watch(socket, for: what)
            return 0
        }
        imagegen_curl_multi_set_timer_callback(multi) { _, milliseconds, context in
            Unmanaged<CurlDriver>.fromOpaque(context!).takeUnretainedValue().setTimer(milliseconds: milliseconds)
            return 0
        }
    }

    deinit {
        close(poller)
        close(wakeup)
    }

    var inFlight: Int { count.withLock { $0 } }

    func submit(_ transfer: CurlTransfer) {
        count.withLock { $0 += 1 }
        pending.withLock { $0.append(transfer) }
        wake()
    }

    func issueTicket() -> Int {
        tickets.withLock { tickets in
            tickets.next += 1
            tickets.live.insert(tickets.next)
            return tickets.next
        }
    }

    /// Marks a transfer to be aborted; a ticket already finished is ignored.
    func cancel(_ ticket: Int) {
        let live = tickets.withLock { tickets in
            guard tickets.live.contains(ticket) else { return false }
            tickets.cancelled.insert(ticket)
            return true
        }
        if live { wake() }
    }

    func stop() {
        stopping.withLock { $0 = true }
        wake()
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeup, &one, MemoryLayout<UInt64>.size)
    }

    /// curl's socket callback: watch `socket` for what curl waits for, or stop watching it.
    private func watch(_ socket: Int32, for what: Int32) {
        guard what != CURL_POLL_REMOVE else {
            epoll_ctl(poller, EPOLL_CTL_DEL, socket, nil)
            return
        }
        var event = epoll_event()
        event.events = (what & CURL_POLL_IN != 0 ? EPOLLIN.rawValue : 0) | (what & CURL_POLL_OUT != 0 ? EPOLLOUT.rawValue : 0)
        event.data.fd = socket
        if epoll_ctl(poller, EPOLL_CTL_MOD, socket, &event) != 0 {
            epoll_ctl(poller, EPOLL_CTL_ADD, socket, &event)
        }
    }

    /// curl's timer callback: -1 removes the timer.
    private func setTimer(milliseconds: Int) {
        timerDeadline = milliseconds < 0 ? nil : DispatchTime.now().uptimeNanoseconds + UInt64(milliseconds) * 1_000_000
    }

    func run() {
        var running: Int32 = 0
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while !stopping.withLock({ $0 }) {
            let now = DispatchTime.now().uptimeNanoseconds
            let timeout = timerDeadline.map { Int32(min(($0 > now ? $0 - now : 0) / 1_000_000, 1_000)) } ?? 1_000
            let ready = epoll_wait(poller, &events, Int32(events.count), timeout)
            for event in events.prefix(max(Int(ready), 0)) {
                if event.data.fd == wakeup {
                    var value: UInt64 = 0
                    _ = read(wakeup, &value, MemoryLayout<UInt64>.size)
                    continue
                }
                let flags = (event.events & EPOLLIN.rawValue != 0 ? CURL_CSELECT_IN : 0)
                    | (event.events & EPOLLOUT.rawValue != 0 ? CURL_CSELECT_OUT : 0)
                    | (event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 ? CURL_CSELECT_ERR : 0)
                curl_multi_socket_action(multi, event.data.fd, Int32(flags), &running)
            }
            startPendingAndAbortCancelled()
            if let deadline = timerDeadline, DispatchTime.now().uptimeNanoseconds >= deadline {
                timerDeadline = nil
                curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
            }
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let transfer = active.removeValue(forKey: easy) else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                finish(transfer, code: code)
            }
        }
        for (easy, transfer) in active {
            curl_multi_remove_handle(multi, easy)
            finish(transfer, code: CURLE_ABORTED_BY_CALLBACK)
        }
        active.removeAll()
        for transfer in takePending() {
            finish(transfer, code: CURLE_ABORTED_BY_CALLBACK)
        }
        curl_multi_cleanup(multi)
    }

    /// Adds the transfers submitted since the last turn (curl's timer then starts them) and
    /// removes the cancelled ones.
    private func startPendingAndAbortCancelled() {
        let cancelled = tickets.withLock { $0.cancelled }
        for transfer in takePending() {
            if cancelled.contains(transfer.ticket) {
                finish(transfer, code: CURLE_ABORTED_BY_CALLBACK)
                continue
            }
            guard let easy = transfer.prepare() else {
                finish(transfer, code: CURLE_FAILED_INIT)
                continue
            }
            active[easy] = transfer
            curl_multi_add_handle(multi, easy)
        }
        guard !cancelled.isEmpty else { return }
        for (easy, transfer) in active where cancelled.contains(transfer.ticket) {
            active[easy] = nil
            curl_multi_remove_handle(multi, easy)
            finish(transfer, code: CURLE_ABORTED_BY_CALLBACK)
        }
    }

    private func takePending() -> [CurlTransfer] {
        pending.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }

    private func finish(_ transfer: CurlTransfer, code: CURLcode) {
        count.withLock { $0 -= 1 }
        let wasCancelled = tickets.withLock { tickets in
            tickets.live.remove(transfer.ticket)
            return tickets.cancelled.remove(transfer.ticket) != nil
        }
        if wasCancelled, code == CURLE_ABORTED_BY_CALLBACK {
            transfer.abandon()
        } else {
            transfer.complete(code: code)
        }
    }
}

/// One request's easy handle and buffers, alive from submit to completion.
private final class CurlTransfer: @unchecked Sendable {
    let ticket: Int
    let request: CurlRequest
    private let continuation: CheckedContinuation<CurlResponse, any Error>
    private var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// curl writes its error text here after `prepare` returns, so the buffer must outlive that call.
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return buffer
    }()
    fileprivate var responseBody: [UInt8] = []
    fileprivate var responseHeaders: [String: String] = [:]
    /// Set when the body passed `maxResponseBytes` while streaming in (no Content-Length, or a false one).
    fileprivate var exceededMaximum = false
    /// How many times curl was about to send the request; a second time is curl resending it
    /// on a fresh connection because the kept one closed before any answer.
    fileprivate var sends = 0

    /// Whether curl may send the request only once. curl sends a request again, unasked, when
    /// the kept-alive connection it went out on closes before a byte of answer, which is also
    /// what a provider that took the call and then dropped the connection looks like: an image
    /// paid twice. Only a GET, which changes nothing, may go again.
    fileprivate var refusesResend: Bool { request.method != "GET" }

    init(ticket: Int, request: CurlRequest, continuation: CheckedContinuation<CurlResponse, any Error>) {
        self.ticket = ticket
        self.request = request
        self.continuation = continuation
    }

    deinit {
        errorBuffer.deallocate()
    }

    func prepare() -> UnsafeMutableRawPointer? {
        guard let easy = curl_easy_init() else { return nil }
        self.easy = easy
        let context = Unmanaged.passUnretained(self).toOpaque()
        imagegen_curl_set_string(easy, CURLOPT_URL, request.url)
        imagegen_curl_set_long(easy, CURLOPT_NOSIGNAL, 1)
        imagegen_curl_set_long(easy, CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds)
        imagegen_curl_set_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
        imagegen_curl_set_string(easy, CURLOPT_CUSTOMREQUEST, request.method)
        if let maximum = request.maxResponseBytes {
            // Refuses at once an answer whose Content-Length is larger; the write callback catches the rest.
            imagegen_curl_set_long(easy, CURLOPT_MAXFILESIZE, maximum)
        }
        if !request.body.isEmpty || request.method == "POST" {
            imagegen_curl_set_long(easy, CURLOPT_POSTFIELDSIZE, request.body.count)
            request.body.withUnsafeBytes { bytes in
                _ = imagegen_curl_set_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            }
        }
        // Expect: 100-continue would add a round trip to every large POST.
        for header in request.headers + [(name: "Expect", value: "")] {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        imagegen_curl_set_pointer(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headerList))
        imagegen_curl_set_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteBody)
        imagegen_curl_set_pointer(easy, CURLOPT_WRITEDATA, context)
        imagegen_curl_set_callback(easy, CURLOPT_HEADERFUNCTION, curlWriteHeader)
        imagegen_curl_set_pointer(easy, CURLOPT_HEADERDATA, context)
        imagegen_curl_set_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        imagegen_curl_set_prereq_callback(easy, curlBeforeSend)
        imagegen_curl_set_pointer(easy, CURLOPT_PREREQDATA, context)
        return easy
    }

    func complete(code: CURLcode) {
        defer { release() }
        if code == CURLE_OK, let easy {
            var status = 0
            imagegen_curl_get_long(easy, CURLINFO_RESPONSE_CODE, &status)
            var microseconds: curl_off_t = 0
            imagegen_curl_get_curl_off(easy, CURLINFO_TOTAL_TIME_T, &microseconds)
            var newConnections = 0
            imagegen_curl_get_long(easy, CURLINFO_NUM_CONNECTS, &newConnections)
            continuation.resume(returning: CurlResponse(
                status: status, headers: responseHeaders, body: responseBody, exchangeTime: .microseconds(microseconds),
                newConnections: newConnections
            ))
            return
        }
        if sends > 1, refusesResend {
            continuation.resume(throwing: CurlError(
                kind: .transfer, code: Int(code.rawValue),
                message: "the connection closed after the request was sent, before any answer; not sent again, since the server may have acted on it",
                requestSent: true
            ))
            return
        }
        var requestSize = 0
        if let easy { imagegen_curl_get_long(easy, CURLINFO_REQUEST_SIZE, &requestSize) }
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let kind: CurlError.Kind = switch code {
        case CURLE_FILESIZE_EXCEEDED: .tooLarge
        case CURLE_WRITE_ERROR where exceededMaximum: .tooLarge
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .connect
        default: .transfer
        }
        continuation.resume(throwing: CurlError(
            kind: kind, code: Int(code.rawValue), message: message, requestSent: requestSize > 0
        ))
    }

    func abandon() {
        release()
        continuation.resume(throwing: CancellationError())
    }

    private func release() {
        if let easy { curl_easy_cleanup(easy) }
        easy = nil
        curl_slist_free_all(headerList)
        headerList = nil
    }

    /// One header line as curl hands it over, CRLF included. Read as bytes: trimming each
    /// line with Foundation cost a client polling a thousand times a second a tenth of its CPU.
    fileprivate func receiveHeaderLine(_ line: UnsafeBufferPointer<UInt8>) {
        if line.starts(with: "HTTP/".utf8) {
            // A new status line (after a redirect or 100 Continue) starts a new header block.
            responseHeaders.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0d || byte == 0x0a }
        var start = colon + 1, end = line.endIndex
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let name = line[..<colon].map { (0x41...0x5a).contains($0) ? $0 | 0x20 : $0 }
        responseHeaders[String(decoding: name, as: UTF8.self)] = String(decoding: UnsafeBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
    }
}

private func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    if let maximum = transfer.request.maxResponseBytes, transfer.responseBody.count + length > maximum {
        transfer.exceededMaximum = true
        return 0
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        let piece = UnsafeBufferPointer(start: $0, count: length)
        transfer.responseBody.append(contentsOf: piece)
        transfer.request.onBody?(Array(piece))
    }
    return length
}

/// Called each time curl is about to send the request, on a new or a kept connection.
private func curlBeforeSend(
    _ context: UnsafeMutableRawPointer?, _ primaryIP: UnsafeMutablePointer<CChar>?, _ localIP: UnsafeMutablePointer<CChar>?,
    _ primaryPort: Int32, _ localPort: Int32
) -> Int32 {
    guard let context else { return CURL_PREREQFUNC_OK }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    transfer.sends += 1
    return transfer.sends > 1 && transfer.refusesResend ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK
}

private func curlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    data.withMemoryRebound(to: UInt8.self, capacity: length) { transfer.receiveHeaderLine(UnsafeBufferPointer(start: $0, count: length)) }
    return length
}
