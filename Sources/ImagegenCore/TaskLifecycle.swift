import Foundation

/// What a task's row says, as far as the rules of its life need it.
public struct TaskState: Sendable, Equatable {
    public var status: TaskStatus
    public var attempts: Int
    public var maxAttempts: Int
    public var cancelRequested: Bool
    /// Its worker reported within the lease (only read while the task is running).
    public var heartbeatFresh: Bool
    /// Past the deadline by which it had to start.
    public var overdue: Bool

    public init(status: TaskStatus, attempts: Int, maxAttempts: Int, cancelRequested: Bool, heartbeatFresh: Bool, overdue: Bool) {
        self.status = status
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.cancelRequested = cancelRequested
        self.heartbeatFresh = heartbeatFresh
        self.overdue = overdue
    }
}

/// What a worker that leased a task does with it.
public enum StartDecision: Sendable, Equatable {
    /// Run attempt number `attempt`. `takingOver`: the task was still `running` under a worker
    /// that went silent, whose attempt may have been billed, so its reservation stays counted.
    case start(attempt: Int, takingOver: Bool)
    /// Leave the task alone: it is finished, or its worker is alive.
    case leave
    /// End the task without an attempt.
    case end(TaskStatus, TaskError?, takingOver: Bool)
}

/// How an attempt ended, as its worker saw it.
public enum AttemptEnd: Sendable, Equatable {
    /// The provider returned `images` images costing `cost`.
    case succeeded(cost: MicroDollars, images: Int)
    /// Try again after `delayMilliseconds`. `countsAsAttempt` false: the provider turned the
    /// key away, not the task, so the attempt is not used up.
    case retry(delayMilliseconds: Int64, error: TaskError, providerMayHaveBilled: Bool, countsAsAttempt: Bool)
    case failed(TaskError, providerMayHaveBilled: Bool)
    /// The worker gave the attempt up while stopping; the task waits for another worker.
    case handedBack(providerMayHaveBilled: Bool)
}

/// How an attempt's reservation ends.
public enum ReservationEnd: Sendable, Equatable {
    /// The provider returned this many images costing this much; the charge is recorded.
    case settled(MicroDollars, images: Int)
    /// The provider certainly did not bill (it answered with an error, or was never reached).
    case released
    /// Nobody knows whether the provider billed; the reservation stays counted.
    case unsettled

    public static func closing(providerMayHaveBilled: Bool) -> ReservationEnd {
        providerMayHaveBilled ? .unsettled : .released
    }
}

/// The change an ended attempt makes to its task. The owner may ask to cancel while the
/// attempt runs, which the worker cannot know, so the transition names both outcomes and
/// the store picks by the row it updates.
public struct Transition: Sendable, Equatable {
    public let status: TaskStatus
    public let statusIfCancelRequested: TaskStatus
    /// Shown to the owner; nil clears the last one unless `keepsError`.
    public let error: TaskError?
    public let keepsError: Bool
    /// For `retrying`: when the next attempt is due.
    public let retryDelayMilliseconds: Int64?
    /// Attempts added to the task's allowance, so an attempt that was not the task's fault is not used up.
    public let extraAttempts: Int
    public let reservation: ReservationEnd
}

/// The rules of a task's life: which change is allowed from which state. Pure; the stores
/// carry the decisions out, each in one statement fenced by the state they were made on.
///
///     queued/retrying ─start→ running ─succeeded/failed/retry/hand back→ succeeded/failed/retrying/queued
///     any unfinished ─cancel→ canceled (a running one at the end of its attempt)
///     queued/retrying past its deadline ─expire→ failed (expired)
///     failed ─requeue (operator)→ queued
public enum TaskLifecycle {
    /// The attempt after a worker leases the task.
    ///
    /// A task still marked `running` is taken over only when its heartbeat is stale (its
    /// worker stopped). If a takeover would be its last attempt the task fails as
    /// `worker_lost` rather than running forever; if its owner asked to cancel, it is canceled;
    /// past its deadline it fails as `expired`.
    public static func start(_ task: TaskState) -> StartDecision {
        guard !task.status.isTerminal else { return .leave }
        let takingOver = task.status == .running
        if takingOver, task.heartbeatFresh { return .leave }
        if task.cancelRequested { return .end(.canceled, nil, takingOver: takingOver) }
        if task.overdue { return .end(.failed, .expired, takingOver: takingOver) }
        if takingOver, task.attempts >= task.maxAttempts { return .end(.failed, .workerLost, takingOver: true) }
        return .start(attempt: task.attempts + 1, takingOver: takingOver)
    }

    /// The change the end of the task's current attempt makes. A canceled owner gets
    /// `canceled` whatever the attempt did, but a call the provider billed is still charged.
    public static func finish(_ end: AttemptEnd) -> Transition {
        switch end {
        case .succeeded(let cost, let images):
            Transition(
                status: .succeeded, statusIfCancelRequested: .canceled, error: nil, keepsError: false, retryDelayMilliseconds: nil,
                extraAttempts: 0, reservation: .settled(cost, images: images)
            )
        case .retry(let delay, let error, let billed, let countsAsAttempt):
            Transition(
                status: .retrying, statusIfCancelRequested: .canceled, error: error, keepsError: false, retryDelayMilliseconds: delay,
                extraAttempts: countsAsAttempt ? 0 : 1, reservation: .closing(providerMayHaveBilled: billed)
            )
        case .failed(let error, let billed):
            Transition(
                status: .failed, statusIfCancelRequested: .canceled, error: error, keepsError: false, retryDelayMilliseconds: nil,
                extraAttempts: 0, reservation: .closing(providerMayHaveBilled: billed)
            )
        case .handedBack(let billed):
            // Attempt numbers only grow, so they stay unique fencing tokens; the allowance grows with them.
            Transition(
                status: .queued, statusIfCancelRequested: .canceled, error: nil, keepsError: true, retryDelayMilliseconds: nil,
                extraAttempts: 1, reservation: .closing(providerMayHaveBilled: billed)
            )
        }
    }

    /// What an owner's cancel does to a task in `status`.
    public static func cancel(_ status: TaskStatus) -> CancelDecision {
        switch status {
        case .queued, .retrying: .cancelNow
        case .running: .askWorker
        case .canceled: .alreadyCanceled
        case .succeeded, .failed: .alreadyFinished(status)
        }
    }

    /// Statuses a task waits in; only these expire at their deadline (a running task ends
    /// when its attempt does) and only these are canceled at once.
    public static let waiting: [TaskStatus] = [.queued, .retrying]
    /// Statuses an operator may put back on the queue.
    public static let requeueable: [TaskStatus] = [.failed]
}

/// What an owner's cancel does.
public enum CancelDecision: Sendable, Equatable {
    /// The task waits: it ends `canceled` now.
    case cancelNow
    /// The task runs: its worker ends it `canceled` when the attempt ends, charging what the provider billed.
    case askWorker
    case alreadyCanceled
    case alreadyFinished(TaskStatus)
}

extension TaskError {
    /// The worker running the task's last attempt stopped without a word.
    public static let workerLost = TaskError(
        code: "worker_lost", message: "the worker running the last attempt stopped without finishing it"
    )
}
