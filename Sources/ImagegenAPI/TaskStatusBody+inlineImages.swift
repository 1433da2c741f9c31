import Foundation
import Hummingbird
import ImagegenStore

extension TaskStatusBody {
    /// The bytes of an image read per database round trip (192 KiB): a multiple of 3, so that
    /// the base64 of each slice joins the next one's without padding in between.
    static let imageSliceBytes = 3 * 64 * 1024

    /// One inline image's members after `b64_json`.
    private struct InlineImageTail: Encodable {
        let revised_prompt: String?
        let media_type: String
        let url: String
    }

    /// The status answer with the images inline as `images[].b64_json` (the seed API's shape),
    /// written while it is read: an image slice at a time from PostgreSQL, base64 encoded as it
    /// goes. However many clients fetch a task of ten 3 MB images at once, each answer holds one
    /// slice in memory, not 40 MB of JSON.
    func responseWithInlineImages(_ images: [StoredImageDescription], from tasks: TaskStore) throws -> Response {
        let encoder = JSONResponse.encoder
        var head = try encoder.encode(self)
        // A struct encodes as an object: drop its closing brace, so that the images join it as one more member.
        head.removeLast()
        head.append(contentsOf: Array(#","images":["#.utf8))
        let taskID = UUID(uuidString: task_id)!
        let tails = try images.map { image in
            var tail = try encoder.encode(InlineImageTail(
                revised_prompt: image.revisedPrompt, media_type: image.mediaType, url: Self.imageURL(taskID: task_id, position: image.position)
            ))
            tail.removeFirst()
            return Data(#"","#.utf8) + tail
        }
        let prefix = head
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
            try await writer.write(ByteBuffer(bytes: prefix))
            for (index, image) in images.enumerated() {
                try await writer.write(ByteBuffer(string: (index == 0 ? "" : ",") + #"{"b64_json":""#))
                var offset = 0
                while offset < image.byteCount {
                    let length = min(Self.imageSliceBytes, image.byteCount - offset)
                    guard let slice = try await tasks.imageSlice(taskID: taskID, position: image.position, offset: offset, length: length),
                          slice.count == length else {
                        // Purged while being sent: the status is already on the wire, so end the answer short.
                        throw CancellationError()
                    }
                    try await writer.write(ByteBuffer(string: Data(slice).base64EncodedString()))
                    offset += length
                }
                try await writer.write(ByteBuffer(bytes: tails[index]))
            }
            try await writer.write(ByteBuffer(string: "]}"))
            try await writer.finish(nil)
        })
    }
}
