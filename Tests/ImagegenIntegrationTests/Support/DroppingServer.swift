import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A bare HTTP/1.1 server on loopback that answers the first request on a connection and
/// closes the connection on reading the second, answering nothing: a provider or load balancer
/// that drops a kept-alive connection while the call on it runs. It counts every request it
/// read, so a test sees whether a client sent one request twice.
final class DroppingServer: Sendable {
    let port: Int
    private let listener: Int32
    private let received = Atomic<Int>(0)

    var requestsReceived: Int { received.load(ordering: .relaxed) }

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && listen(descriptor, 16) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard listening else {
            close(descriptor)
            throw TestEnvironment.Missing(description: "cannot listen on 127.0.0.1 for the dropping server")
        }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// Stops accepting; a connection being served ends with its client.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            var buffered: [UInt8] = []
            var onThisConnection = 0
            while readRequest(from: connection, buffered: &buffered) {
                received.add(1, ordering: .relaxed)
                onThisConnection += 1
                if onThisConnection == 2 { break }
                let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                _ = answer.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            }
            close(connection)
        }
    }

    /// Reads one request (headers and a `Content-Length` body) off `connection`; false when
    /// the client closed it first.
    private func readRequest(from connection: Int32, buffered: inout [UInt8]) -> Bool {
        let separator = Array("\r\n\r\n".utf8)
        var chunk = [UInt8](repeating: 0, count: 4096)
        func fill() -> Bool {
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0 else { return false }
            buffered += chunk[..<count]
            return true
        }
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = buffered.indices.dropLast(3).first { buffered[$0..<$0 + 4].elementsEqual(separator) }
            if headerEnd == nil, !fill() { return false }
        }
        let headers = String(decoding: buffered[..<headerEnd!], as: UTF8.self).lowercased()
        let bodyLength = headers.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let requestEnd = headerEnd! + 4 + bodyLength
        while buffered.count < requestEnd {
            if !fill() { return false }
        }
        buffered.removeFirst(requestEnd)
        return true
    }
}
