import Foundation
import ImagegenCore
import ImagegenStore
import OpenAPIRuntime

extension APIHandlers {
    /// Server-Sent Events: one `status` event now and one at every change of status, attempt or
    /// cancel request, a `partial_image` event with each draft the provider streams (the latest
    /// when several came at once), and a `progress` event when only the provider's progress or
    /// the route changed, until the task ends.
    func streamTaskEvents(_ input: Operations.StreamTaskEvents.Input) async throws -> Operations.StreamTaskEvents.Output {
        let userID = try AuthenticatedUser.required()
        let taskID = try Self.taskID(input.path.id)
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
        let events = TaskEventStream(
            first: first, userID: userID, tasks: tasks, watch: watch, waiters: waiters, idleTimeout: streamIdleTimeout
        )
        let frames = AsyncThrowingStream<ArraySlice<UInt8>, any Error>(unfolding: { try await events.next() })
        RawResponse.add([.cacheControl: "no-cache"])
        return .ok(.init(body: .textEventStream(HTTPBody(frames, length: .unknown, iterationBehavior: .single))))
    }
}

/// One client's event stream: each frame is made when the client takes it, and the watch and
/// the waiter place are given back when the stream goes away, ended or dropped by the client.
private actor TaskEventStream {
    private var current: TaskSnapshot
    private var sent: (status: TaskStatus, attempts: Int, cancelRequested: Bool)?
    private var sentProgress: (progress: String?, provider: String?)?
    /// The drafts counted when the last `partial_image` event went out.
    private var sentPartialImages = 0
    private var lastChange = ContinuousClock.now
    private var finished = false
    private let userID: UUID
    private let tasks: TaskStore
    private let watch: TaskWatch
    private let waiters: WaiterLimit
    private let idleTimeout: Duration

    init(first: TaskSnapshot, userID: UUID, tasks: TaskStore, watch: TaskWatch, waiters: WaiterLimit, idleTimeout: Duration) {
        current = first
        self.userID = userID
        self.tasks = tasks
        self.watch = watch
        self.waiters = waiters
        self.idleTimeout = idleTimeout
    }

    deinit {
        watch.close()
        waiters.leave(userID)
    }

    /// The next frame: the task when it changed, a keep-alive when nothing did for a while,
    /// or nil once the task ended or nothing changed for the idle timeout.
    func next() async throws -> ArraySlice<UInt8>? {
        while !finished {
            let progress = (current.progress, current.provider)
            if sent.map({ $0 != (current.status, current.attempts, current.cancelRequested) }) ?? true {
                sent = (current.status, current.attempts, current.cancelRequested)
                sentProgress = progress
                lastChange = ContinuousClock.now
                finished = current.status.isTerminal
                return try ServerSentEvent.status(Components.Schemas.Task(current))
            }
            if current.partialImages > sentPartialImages, !current.status.isTerminal {
                sentPartialImages = current.partialImages
                lastChange = ContinuousClock.now
                if let draft = try await tasks.latestPartialImage(taskID: current.taskID, userID: userID) {
                    return try ServerSentEvent.partialImage(draft, taskID: current.taskID)
                }
            }
            if let sentProgress, sentProgress != progress {
                self.sentProgress = progress
                lastChange = ContinuousClock.now
                return try ServerSentEvent.progress(Components.Schemas.Task(current))
            }
            let idleLeft = idleTimeout - (ContinuousClock.now - lastChange)
            guard idleLeft > .zero else { return nil }
            if await watch.nextChange(within: min(APIHandlers.keepAliveInterval, idleLeft)) {
                guard let next = try await tasks.snapshot(taskID: current.taskID, userID: userID) else { return nil }
                current = next
            } else if ContinuousClock.now - lastChange < idleTimeout {
                return ServerSentEvent.keepAlive
            }
        }
        return nil
    }
}
