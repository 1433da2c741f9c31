import Foundation

/// The frames of a task's event stream.
enum ServerSentEvent {
    /// `event: status` with the task as JSON on one `data:` line (JSON never holds a raw newline).
    static func status(_ task: Components.Schemas.Task) throws -> ArraySlice<UInt8> {
        try event("status", task)
    }

    /// `event: progress`: the task, when the provider reports how far its attempt has come.
    static func progress(_ task: Components.Schemas.Task) throws -> ArraySlice<UInt8> {
        try event("progress", task)
    }

    private static func event(_ name: String, _ task: Components.Schemas.Task) throws -> ArraySlice<UInt8> {
        Array("event: \(name)\ndata: ".utf8)[...] + (try JSONResponse.encoder.encode(task)) + Array("\n\n".utf8)
    }

    /// A comment line, which clients ignore and proxies count as traffic.
    static let keepAlive = Array(": keep-alive\n\n".utf8)[...]
}
