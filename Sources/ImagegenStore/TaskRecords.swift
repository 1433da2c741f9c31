import Foundation
import ImagegenCore

/// A task that a worker has started an attempt on. `attempt` is the fencing token:
/// only the holder of the latest attempt can finish the task.
public struct TaskAttempt: Sendable {
    public let taskID: UUID
    public let userID: UUID
    public let request: ImageRequest
    public let attempt: Int
    public let maxAttempts: Int
    public let unitPrice: MicroDollars
    public let acceptsResponseFormat: Bool
}

/// An image as stored: decoded bytes, not base64.
public struct StoredImage: Sendable, Equatable {
    public let mediaType: String
    public let bytes: [UInt8]
    public let revisedPrompt: String?

    public init(mediaType: String, bytes: [UInt8], revisedPrompt: String?) {
        self.mediaType = mediaType
        self.bytes = bytes
        self.revisedPrompt = revisedPrompt
    }
}

/// Why a task failed or is retrying, as shown to its owner.
public struct TaskError: Sendable, Equatable {
    public let code: String
    public let message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// What a task's owner sees when polling its status.
public struct TaskSnapshot: Sendable {
    public let taskID: UUID
    public let status: TaskStatus
    public let attempts: Int
    public let maxAttempts: Int
    public let createdAt: String
    public let startedAt: String?
    public let finishedAt: String?
    public let nextAttemptAt: String?
    public let error: TaskError?
    public let cost: MicroDollars?
    public let images: [StoredImage]
}
