import Foundation
import HTTPTypes
import Hummingbird
import ImagegenCore
import ImagegenQueue
import ImagegenStore

/// A caller's tasks: their status (at once, as a long poll, or as an event stream),
/// cancelling one, listing them, and fetching one image.
struct TaskRoutes: Sendable {
    let tasks: TaskStore
    let queue: TaskQueue
    let changes: TaskChangeListener
    let waiters: WaiterLimit
    /// An event stream with no change for this long ends; the client reconnects if it still cares.
    let streamIdleTimeout: Duration

    func register(in table: inout RouteTable) {
        table.add(.get, "images/tasks") { request, context in try await list(request, context: context) }
        table.add(.get, "images/tasks/:id/status") { request, context in try await status(request, context: context) }
        table.add(.get, "images/tasks/:id/events") { request, context in try await events(request, context: context) }
        table.add(.get, "images/tasks/:id/images/:position") { request, context in try await image(request, context: context) }
        table.add(.post, "images/tasks/:id/cancel") { request, context in try await cancel(request, context: context) }
    }

    /// Seconds a client should wait before polling a task that is not finished: images take
    /// 5-20 s, so faster polling only costs both sides.
    static let pollAfterSeconds = 2
    /// The longest long poll, below common proxy idle timeouts.
    static let maxWaitSeconds = 30
    /// Events streams send a comment this often so that proxies keep them open.
    static let keepAliveInterval = Duration.seconds(15)
    /// No model makes more images per request; positions past it cannot exist.
    static let maxImagesPerTask = 100
    static let defaultPageSize = 20
    static let maxPageSize = 100

    /// `?wait=N` answers when the task's status changes or N seconds pass, whichever is first.
    private func status(_ request: Request, context: APIRequestContext) async throws -> Response {
        let userID = try context.userID()
        let taskID = try taskID(in: context)
        let wait = try QueryParameters(request).integer("wait", in: 0...Self.maxWaitSeconds) ?? 0
        guard wait > 0 else { return try await statusResponse(try await snapshot(taskID, of: userID)) }
        try waiters.enter(userID)
        defer { waiters.leave(userID) }
        let watch = changes.watch(taskID)
        defer { watch.close() }
        let first = try await snapshot(taskID, of: userID)
        guard !first.status.isTerminal else { return try await statusResponse(first) }
        let deadline = ContinuousClock.now + .seconds(wait)
        while case let remaining = deadline - ContinuousClock.now, remaining > .zero, await watch.nextChange(within: remaining) {
            let current = try await snapshot(taskID, of: userID)
            if current.status != first.status { break }
        }
        return try await statusResponse(try await snapshot(taskID, of: userID))
    }

    /// Server-Sent Events: one `status` event now and one at every change, until the task ends.
    private func events(_ request: Request, context: APIRequestContext) async throws -> Response {
        let userID = try context.userID()
        let taskID = try taskID(in: context)
        try waiters.enter(userID)
        let watch = changes.watch(taskID)
        let first: TaskSnapshot
        do {
            first = try await snapshot(taskID, of: userID)
        } catch {
            watch.close()
            waiters.leave(userID)
            throw error
        }
        let tasks = self.tasks, waiters = self.waiters, idleTimeout = streamIdleTimeout
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer {
                watch.close()
                waiters.leave(userID)
            }
            var lastChange = ContinuousClock.now
            var current = first
            var sent: (status: TaskStatus, attempts: Int, cancelRequested: Bool)?
            while true {
                if sent.map({ $0 != (current.status, current.attempts, current.cancelRequested) }) ?? true {
                    try await writer.write(ServerSentEvent.status(TaskStatusBody(current)))
                    sent = (current.status, current.attempts, current.cancelRequested)
                    lastChange = ContinuousClock.now
                }
                if current.status.isTerminal { break }
                let idleLeft = idleTimeout - (ContinuousClock.now - lastChange)
                guard idleLeft > .zero else { break }
                if await watch.nextChange(within: min(Self.keepAliveInterval, idleLeft)) {
                    guard let next = try await tasks.snapshot(taskID: taskID, userID: userID) else { break }
                    current = next
                } else if ContinuousClock.now - lastChange < idleTimeout {
                    try await writer.write(ServerSentEvent.keepAlive)
                }
            }
            try await writer.finish(nil)
        })
    }

    private func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let userID = try context.userID()
        let query = QueryParameters(request)
        let status = try query.value("status").map { text in
            guard let status = TaskStatus(rawValue: text) else {
                throw APIError(
                    .badRequest, code: "invalid_parameter",
                    message: "status must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: "status"
                )
            }
            return status
        }
        let limit = try query.integer("limit", in: 1...Self.maxPageSize) ?? Self.defaultPageSize
        let after = try query.value("cursor").map { text in
            guard let position = TaskListCursor.decode(text) else {
                throw APIError(.badRequest, code: "invalid_cursor", message: "cursor is not one this API returned", field: "cursor")
            }
            return position
        }
        let page = try await tasks.list(userID: userID, status: status, after: after, limit: limit)
        return try JSONResponse.make(status: .ok, body: TaskListBody(
            tasks: page.tasks.map { TaskStatusBody($0) },
            next_cursor: Nullable(page.nextPage.map(TaskListCursor.encode))
        ))
    }

    /// One image as itself, for an `<img>` tag or a download: it never changes, so it may be cached for good.
    private func image(_ request: Request, context: APIRequestContext) async throws -> Response {
        let userID = try context.userID()
        let taskID = try taskID(in: context)
        guard let text = context.parameters.get("position"), let position = Int(text), (0..<Self.maxImagesPerTask).contains(position),
              String(position) == text
        else {
            throw APIError(
                .notFound, code: "image_not_found", message: "images are numbered from 0 to \(Self.maxImagesPerTask - 1)", field: "position"
            )
        }
        switch try await tasks.image(taskID: taskID, userID: userID, position: position) {
        case .noTask:
            throw APIError.taskNotFound
        case .notReady:
            throw APIError(.conflict, code: "images_not_ready", message: "the task has not succeeded, so it has no images yet")
        case .noImage:
            throw APIError(.notFound, code: "image_not_found", message: "the task has no image \(position)", field: "position")
        case .purged:
            throw APIError(.gone, code: "images_purged", message: "the task's images were deleted at the end of their retention period")
        case .found(let image):
            let tag = "\"\(taskID.uuidString.lowercased())-\(position)\""
            var headers: HTTPFields = [.eTag: tag, .cacheControl: "private, max-age=31536000, immutable"]
            if request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag }) == true {
                return Response(status: .notModified, headers: headers)
            }
            headers[.contentType] = image.mediaType
            headers[.contentLength] = String(image.bytes.count)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: image.bytes)))
        }
    }

    private func cancel(_ request: Request, context: APIRequestContext) async throws -> Response {
        let userID = try context.userID()
        let taskID = try taskID(in: context)
        switch try await tasks.cancel(taskID: taskID, userID: userID) {
        case nil:
            throw APIError.taskNotFound
        case .alreadyFinished(let status):
            throw APIError(.conflict, code: "task_already_finished", message: "the task already \(status.rawValue); it cannot be canceled")
        case .canceled:
            try? await queue.withdraw(taskID: taskID)
            context.logger.info("task canceled", metadata: ["task_id": "\(taskID.uuidString.lowercased())"])
        case .requested:
            context.logger.info("cancel requested for a running task", metadata: ["task_id": "\(taskID.uuidString.lowercased())"])
        }
        return try await statusResponse(try await snapshot(taskID, of: userID))
    }

    private func snapshot(_ taskID: UUID, of userID: UUID) async throws -> TaskSnapshot {
        guard let snapshot = try await tasks.snapshot(taskID: taskID, userID: userID) else {
            throw APIError.taskNotFound
        }
        return snapshot
    }

    /// The status answer; a succeeded task's images go inline as `images[].b64_json`, streamed.
    private func statusResponse(_ snapshot: TaskSnapshot) async throws -> Response {
        let body = TaskStatusBody(snapshot)
        let headers: HTTPFields = snapshot.status.isTerminal ? [:] : [.retryAfter: String(Self.pollAfterSeconds)]
        guard TaskStatusBody.hasImages(snapshot), snapshot.imageCount > 0 else {
            return try JSONResponse.make(status: .ok, body: body, headers: headers)
        }
        return try body.responseWithInlineImages(try await tasks.imageDescriptions(taskID: snapshot.taskID), from: tasks)
    }

    private func taskID(in context: APIRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let taskID = UUID(uuidString: text) else {
            throw APIError.taskNotFound
        }
        return taskID
    }
}

/// The answer to `GET /images/tasks`; `next_cursor` is null, not absent, on the last page.
struct TaskListBody: Encodable {
    let tasks: [TaskStatusBody]
    let next_cursor: Nullable<String>
}
