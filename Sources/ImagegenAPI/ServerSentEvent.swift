import Foundation
import ImagegenStore

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

    /// `event: partial_image`: a draft of the task's image, as base64, while the provider draws it.
    static func partialImage(_ draft: PartialImage, taskID: UUID) throws -> ArraySlice<UInt8> {
        let data = PartialImageBody(
            task_id: taskID.uuidString.lowercased(), partial_image_index: draft.index, media_type: draft.mediaType,
            b64_json: Data(draft.bytes).base64EncodedString()
        )
        return Array("event: partial_image\ndata: ".utf8)[...] + (try JSONResponse.encoder.encode(data)) + Array("\n\n".utf8)
    }

    private static func event(_ name: String, _ task: Components.Schemas.Task) throws -> ArraySlice<UInt8> {
        Array("event: \(name)\ndata: ".utf8)[...] + (try JSONResponse.encoder.encode(task)) + Array("\n\n".utf8)
    }

    /// A comment line, which clients ignore and proxies count as traffic.
    static let keepAlive = Array(": keep-alive\n\n".utf8)[...]
}

/// The `PartialImage` schema, typed by hand: it is an event's data, which the document
/// describes as JSON text inside the stream, so no operation references it for generation.
private struct PartialImageBody: Encodable {
    let task_id: String
    let partial_image_index: Int
    let media_type: String
    let b64_json: String
}
