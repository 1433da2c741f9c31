import Foundation
import ImagegenCore
import ImagegenProviderGate
import ImagegenQueue
import ImagegenStore
import Logging
import OpenAPIRuntime

/// What the operator routes read besides the stores: the provider gate's shared state, the
/// queue's recent depths, and the database for the cost report.
struct OperatorSources: Sendable {
    let gate: ProviderGate
    let history: QueueHistory
    let database: Database
}

/// The API's operations, one method each as openapi.json names them. The generated code
/// routes each request here, decodes it into the operation's Input and writes the Output;
/// a failure is thrown as an `APIError`, which `ErrorMiddleware` answers.
struct APIHandlers: APIProtocol {
    let tasks: TaskStore
    let spend: SpendStore
    let users: UserStore
    let admin: TaskAdminStore
    let operators: OperatorSources
    let queue: TaskQueue
    /// Enqueues new tasks after their answer has gone out.
    let feeder: QueueFeeder
    let catalog: CatalogCache
    let backoff: BackoffPolicy
    let taskDeadline: Duration
    let changes: TaskChangeListener
    let waiters: WaiterLimit
    /// An event stream with no change for this long ends; the client reconnects if it still cares.
    let streamIdleTimeout: Duration
    let logger: Logger

    /// Timestamps are written as the store renders them, RFC 3339 with milliseconds; JSON is
    /// compact, its keys in a stable order, with slashes unescaped so that URLs and base64 stay
    /// as they are.
    static let configuration = Configuration(dateTranscoder: .iso8601WithFractionalSeconds, jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])

    /// Seconds a client should wait before polling a task that is not finished: images take
    /// 5-20 s, so faster polling only costs both sides.
    static let pollAfterSeconds = 2
    /// Events streams send a comment this often so that proxies keep them open.
    static let keepAliveInterval = Duration.seconds(15)
    /// Tasks per page when `limit` is not given; the document gives the largest page (and the
    /// longest `wait`, and the highest image position), checked by `ParameterCheckMiddleware`.
    static let defaultPageSize = 20
    /// Longest accepted Idempotency-Key, as in Stripe's API.
    static let maxIdempotencyKeyLength = 255

    /// The task id in a path; one that is not a UUID names no task.
    static func taskID(_ id: String) throws -> UUID {
        guard let taskID = UUID(uuidString: id) else { throw APIError.taskNotFound }
        return taskID
    }

    /// The caller's task, or 404 when it is none of theirs.
    func snapshot(_ taskID: UUID, of userID: UUID) async throws -> TaskSnapshot {
        guard let snapshot = try await tasks.snapshot(taskID: taskID, userID: userID) else { throw APIError.taskNotFound }
        return snapshot
    }
}
