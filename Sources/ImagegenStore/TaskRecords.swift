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
    public let price: TaskPrice
    public let acceptsResponseFormat: Bool
    /// The route the attempt runs on: its provider (nil for the worker's default) and the
    /// model's name there, when it differs.
    public let provider: String?
    public let providerModel: String?
    /// What the attempt holds against its user's limits until it ends.
    public let reservation: SpendReservation
}

/// A task whose next attempt a worker starts, and the route it moves to first, if any: a
/// position in the task's routes.
public struct AttemptStart: Sendable, Hashable {
    public let taskID: UUID
    public let route: Int?

    public init(taskID: UUID, route: Int? = nil) {
        self.taskID = taskID
        self.route = route
    }
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

/// What a task's owner sees when polling its status.
public struct TaskSnapshot: Sendable {
    public let taskID: UUID
    public let status: TaskStatus
    public let attempts: Int
    public let maxAttempts: Int
    public let prompt: String
    public let model: String
    public let size: String
    public let quality: String
    public let n: Int
    public let createdAt: String
    /// `created_at` to the microsecond, the key that orders a task list.
    public let createdMicroseconds: Int64
    public let startedAt: String?
    public let finishedAt: String?
    public let nextAttemptAt: String?
    public let error: TaskError?
    /// The owner asked to cancel while an attempt runs; it ends `canceled` when the attempt ends.
    public let cancelRequested: Bool
    public let cost: MicroDollars?
    /// Images stored for the task; 0 once they are purged.
    public let imageCount: Int
    /// When retention deleted the task's images, if it did.
    public let imagesPurgedAt: String?
    /// The provider the task runs (or last ran) on; nil for the deployment's default provider.
    public let provider: String?
    /// How far the running attempt has come, in the provider's words.
    public let progress: String?
    /// How many drafts of its image the provider has streamed for the task.
    public let partialImages: Int
}

/// A draft of a task's image, streamed by the provider while it drew it.
public struct PartialImage: Sendable, Equatable {
    /// Its place among the attempt's drafts, from 0.
    public let index: Int
    public let mediaType: String
    public let bytes: [UInt8]
}

/// A stored image as an answer needs it to stream the bytes a slice at a time; a small
/// image comes along whole, so that sending it takes no further read.
public struct StoredImageDescription: Sendable, Equatable {
    public let position: Int
    public let mediaType: String
    public let revisedPrompt: String?
    public let byteCount: Int
    /// The whole image in base64, when it is small enough to have been read with its description.
    public let base64: String?
}

/// Where a page of a task list ends: the next page starts after this task.
public struct TaskPagePosition: Sendable, Equatable {
    public let taskID: UUID
    public let createdMicroseconds: Int64

    public init(taskID: UUID, createdMicroseconds: Int64) {
        self.taskID = taskID
        self.createdMicroseconds = createdMicroseconds
    }
}

/// One page of a user's tasks, newest first.
public struct TaskPage: Sendable {
    public let tasks: [TaskSnapshot]
    /// Where the next page starts; nil on the last page.
    public let nextPage: TaskPagePosition?
}

/// What asking for one image of a task found.
public enum ImageLookup: Sendable {
    case found(StoredImage)
    /// No such task for this user.
    case noTask
    /// The task has not succeeded (yet), so it has no images.
    case notReady
    /// The task succeeded with fewer images than the position asked for.
    case noImage
    /// Retention deleted the task's images.
    case purged
}

/// How recording the end of an attempt went.
public enum AttemptOutcome: Sendable, Equatable {
    /// The outcome was stored as asked.
    case recorded
    /// The owner asked to cancel during the attempt; the task ended `canceled` instead.
    case canceled
    /// A newer attempt or a final state replaced this one; nothing was stored.
    case superseded
}

/// A client's Idempotency-Key and the digest of the request it came with.
public struct IdempotencyKey: Sendable {
    public let key: String
    public let requestDigest: [UInt8]

    public init(key: String, requestDigest: [UInt8]) {
        self.key = key
        self.requestDigest = requestDigest
    }
}

/// What submitting a task did.
public enum Submission: Sendable, Equatable {
    /// A new task, with the routes it may run on, its own first.
    case created(UUID, routes: [TaskRoute])
    /// The same request came with the same idempotency key before: this is its task.
    case replayed(UUID, TaskStatus)
    /// The idempotency key was used for a different request, whose task this is.
    case keyReused(UUID)
}

/// What asking to cancel a task did.
public enum Cancellation: Sendable, Equatable {
    /// The task is canceled (now or before).
    case canceled
    /// The task is running; it ends `canceled` when its attempt ends.
    case requested
    /// The task had already succeeded or failed.
    case alreadyFinished(TaskStatus)
}
