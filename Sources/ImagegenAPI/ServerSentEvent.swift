import Foundation
import NIOCore

/// The frames of a task's event stream.
enum ServerSentEvent {
    /// `event: status` with the task as JSON on one `data:` line (JSON never holds a raw newline).
    static func status(_ body: TaskStatusBody) throws -> ByteBuffer {
        var buffer = ByteBuffer(string: "event: status\ndata: ")
        buffer.writeBytes(try JSONResponse.encoder.encode(body))
        buffer.writeString("\n\n")
        return buffer
    }

    /// A comment line, which clients ignore and proxies count as traffic.
    static let keepAlive = ByteBuffer(string: ": keep-alive\n\n")
}
