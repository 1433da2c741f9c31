import Foundation
import HTTPTypes
import ImagegenStore
import OpenAPIRuntime

/// A task's status, at once or as a long poll, and cancelling it, which answers the status too.
extension APIHandlers {
    /// `?wait=N` answers when the task's status changes or N seconds pass, whichever is first.
    func getTaskStatus(_ input: Operations.GetTaskStatus.Input) async throws -> Operations.GetTaskStatus.Output {
        let userID = try AuthenticatedUser.required()
        let taskID = try Self.taskID(input.path.id)
        let wait = input.query.wait ?? 0
        let current = wait > 0 ? try await statusChange(of: taskID, userID: userID, within: .seconds(wait)) : try await statusRead(taskID, of: userID)
        return try statusAnswer(current).send().map { .ok($0) } ?? .undocumented(statusCode: 200, .init())
    }

    func cancelTask(_ input: Operations.CancelTask.Input) async throws -> Operations.CancelTask.Output {
        let userID = try AuthenticatedUser.required()
        let taskID = try Self.taskID(input.path.id)
        try await cancel(taskID, userID: userID)
        return try statusAnswer(try await statusRead(taskID, of: userID)).send().map { .ok($0) } ?? .undocumented(statusCode: 200, .init())
    }

    /// Cancels the task now, or asks its worker to when an attempt is running.
    ///
    /// - Parameter userID: the task's owner; nil when an operator cancels anyone's task.
    func cancel(_ taskID: UUID, userID: UUID?) async throws {
        switch try await tasks.cancel(taskID: taskID, userID: userID) {
        case nil:
            throw APIError.taskNotFound
        case .alreadyFinished(let status):
            throw APIError(.conflict, code: "task_already_finished", message: "the task already \(status.rawValue); it cannot be canceled")
        case .canceled:
            try? await queue.withdraw(taskID: taskID)
            logger.info("task canceled", metadata: ["task_id": "\(taskID.uuidString.lowercased())", "by_operator": "\(userID == nil)"])
        case .requested:
            logger.info("cancel requested for a running task", metadata: ["task_id": "\(taskID.uuidString.lowercased())", "by_operator": "\(userID == nil)"])
        }
    }

    /// The task once its status changes, or as it is when `timeout` passes or it has ended.
    private func statusChange(of taskID: UUID, userID: UUID, within timeout: Duration) async throws -> StatusRead {
        try waiters.enter(userID)
        defer { waiters.leave(userID) }
        let watch = changes.watch(taskID)
        defer { watch.close() }
        let first = try await statusRead(taskID, of: userID)
        guard !first.snapshot.status.isTerminal else { return first }
        let deadline = ContinuousClock.now + timeout
        while case let remaining = deadline - ContinuousClock.now, remaining > .zero, await watch.nextChange(within: remaining) {
            let current = try await statusRead(taskID, of: userID)
            if current.snapshot.status != first.snapshot.status { return current }
        }
        return try await statusRead(taskID, of: userID)
    }

    private typealias StatusRead = (snapshot: TaskSnapshot, images: [StoredImageDescription])

    /// The task and its images' descriptions, read together; small images come whole.
    private func statusRead(_ taskID: UUID, of userID: UUID) async throws -> StatusRead {
        guard let read = try await tasks.snapshotWithImages(taskID: taskID, userID: userID, wholeUpTo: InlineImagesBody.imageSliceBytes) else {
            throw APIError.taskNotFound
        }
        return read
    }

    /// The status answer; a succeeded task's images go inline as `images[].b64_json`, streamed.
    private func statusAnswer(_ read: StatusRead) throws -> StatusAnswer {
        let task = Components.Schemas.Task(read.snapshot)
        let retryAfter = read.snapshot.status.isTerminal ? nil : Self.pollAfterSeconds
        guard Components.Schemas.Task.hasImages(read.snapshot), !read.images.isEmpty else { return .task(task, retryAfter: retryAfter) }
        return .streamed(try InlineImagesBody.make(task, images: read.images, from: tasks))
    }
}

/// What the status and cancel operations answer with 200: the task as its schema types it,
/// or, with images inline, the same JSON written while it is read (`InlineImagesBody`). The
/// generated Output can only encode a whole value at once, so the streamed answer goes out
/// through `RawResponse`, with the status and headers the document gives 200.
private enum StatusAnswer {
    case task(Components.Schemas.Task, retryAfter: Int?)
    case streamed(HTTPBody)

    /// The typed answer, or nil when the answer was handed to `RawResponse` instead (the
    /// operation then returns its `undocumented` case, which is not sent).
    func send() -> Components.Responses.Task? {
        switch self {
        case .task(let task, let retryAfter):
            return .init(headers: .init(retryAfter: retryAfter), body: .json(task))
        case .streamed(let body):
            RawResponse.send(.ok, headers: [.contentType: "application/json; charset=utf-8"], body: body)
            return nil
        }
    }
}
