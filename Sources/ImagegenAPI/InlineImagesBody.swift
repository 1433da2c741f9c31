import Foundation
import ImagegenStore
import OpenAPIRuntime

/// The status answer with the images inline as `images[].b64_json` (the seed API's shape),
/// written while it is read: an image slice at a time from PostgreSQL, base64 encoded as it
/// goes, and only when the client takes the next piece. An image no larger than a slice came
/// with the descriptions and goes out whole; when all of them did, the answer is one buffer. However many clients fetch a task of
/// ten 3 MB images at once, each answer holds one slice in memory, not 40 MB of JSON.
actor InlineImagesBody {
    /// The bytes of an image read per database round trip (192 KiB): a multiple of 3, so that
    /// the base64 of each slice joins the next one's without padding in between.
    static let imageSliceBytes = 3 * 64 * 1024

    /// One inline image's members after `b64_json`.
    private struct InlineImageTail: Encodable {
        let revised_prompt: String?
        let media_type: String
        let url: String
    }

    /// What the next piece of the answer is.
    private enum Step {
        case head
        case imageOpening(index: Int)
        case slice(index: Int, offset: Int)
        case imageClosing(index: Int)
        case end
        case done
    }

    private let head: [UInt8]
    private let tails: [[UInt8]]
    private let images: [StoredImageDescription]
    private let taskID: UUID
    private let tasks: TaskStore
    private var step = Step.head

    /// The answer's body: `task` as JSON with an `images` member that holds `images`, read from `tasks`.
    static func make(_ task: Components.Schemas.Task, images: [StoredImageDescription], from tasks: TaskStore) throws -> HTTPBody {
        let encoder = JSONResponse.encoder
        var head = Array(try encoder.encode(task))
        // A struct encodes as an object: drop its closing brace, so that the images join it as one more member.
        head.removeLast()
        head += Array(#","images":["#.utf8)
        let tails = try images.map { image in
            var tail = Array(try encoder.encode(InlineImageTail(
                revised_prompt: image.revisedPrompt, media_type: image.mediaType,
                url: Components.Schemas.Task.imageURL(taskID: task.taskId, position: image.position)
            )))
            tail.removeFirst()
            return Array(#"","#.utf8) + tail
        }
        let wholes = images.compactMap(\.base64)
        if wholes.count == images.count {
            // Every image came whole: the answer is one buffer, sent in one write.
            var answer = head
            for (index, (whole, tail)) in zip(wholes, tails).enumerated() {
                answer += opening(index) + Array(whole.utf8) + tail
            }
            return HTTPBody(answer + closing)
        }
        let body = InlineImagesBody(head: head, tails: tails, images: images, taskID: UUID(uuidString: task.taskId)!, tasks: tasks)
        let pieces = AsyncThrowingStream<ArraySlice<UInt8>, any Error>(unfolding: { try await body.next() })
        return HTTPBody(pieces, length: .unknown, iterationBehavior: .single)
    }

    /// What comes before image `index`'s base64.
    private static func opening(_ index: Int) -> [UInt8] { Array(((index == 0 ? "" : ",") + #"{"b64_json":""#).utf8) }

    /// What ends the answer after the last image.
    private static let closing = Array("]}".utf8)

    private init(head: [UInt8], tails: [[UInt8]], images: [StoredImageDescription], taskID: UUID, tasks: TaskStore) {
        self.head = head
        self.tails = tails
        self.images = images
        self.taskID = taskID
        self.tasks = tasks
    }

    /// The next piece of the answer, or nil after the last.
    private func next() async throws -> ArraySlice<UInt8>? {
        switch step {
        case .head:
            step = images.isEmpty ? .end : .imageOpening(index: 0)
            return head[...]
        case .imageOpening(let index):
            step = .slice(index: index, offset: 0)
            return Self.opening(index)[...]
        case .slice(let index, let offset):
            let image = images[index]
            guard offset < image.byteCount else {
                step = .imageClosing(index: index)
                return try await next()
            }
            if let whole = image.base64 {
                step = .imageClosing(index: index)
                return Array(whole.utf8)[...]
            }
            let length = min(Self.imageSliceBytes, image.byteCount - offset)
            guard let slice = try await tasks.imageSlice(taskID: taskID, position: image.position, offset: offset, length: length),
                  slice.count == length
            else {
                // Purged while being sent: the status is already on the wire, so end the answer short.
                throw CancellationError()
            }
            step = .slice(index: index, offset: offset + length)
            return Array(Data(slice).base64EncodedString().utf8)[...]
        case .imageClosing(let index):
            step = index + 1 < images.count ? .imageOpening(index: index + 1) : .end
            return tails[index][...]
        case .end:
            step = .done
            return Self.closing[...]
        case .done:
            return nil
        }
    }
}
