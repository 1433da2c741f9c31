import ImagegenCore
import Testing

@Suite("TaskLifecycle: which change is allowed from which state, decided without I/O")
struct TaskLifecycleTests {
    private func state(
        _ status: TaskStatus, attempts: Int = 0, max: Int = 3, cancel: Bool = false, fresh: Bool = false, overdue: Bool = false
    ) -> TaskState {
        TaskState(status: status, attempts: attempts, maxAttempts: max, cancelRequested: cancel, heartbeatFresh: fresh, overdue: overdue)
    }

    @Test("a waiting task starts its next attempt; a finished one is left alone")
    func waitingTasksStart() {
        #expect(TaskLifecycle.start(state(.queued)) == .start(attempt: 1, takingOver: false))
        #expect(TaskLifecycle.start(state(.retrying, attempts: 2)) == .start(attempt: 3, takingOver: false))
        for status in [TaskStatus.succeeded, .failed, .canceled] {
            #expect(TaskLifecycle.start(state(status, cancel: true, overdue: true)) == .leave)
        }
    }

    @Test("a running task is taken over only when its heartbeat is stale, and fails as worker_lost on its last attempt")
    func takeovers() {
        #expect(TaskLifecycle.start(state(.running, attempts: 1, fresh: true)) == .leave)
        #expect(TaskLifecycle.start(state(.running, attempts: 1)) == .start(attempt: 2, takingOver: true))
        #expect(TaskLifecycle.start(state(.running, attempts: 3, max: 3)) == .end(.failed, .workerLost, takingOver: true))
        #expect(TaskLifecycle.start(state(.running, attempts: 1, cancel: true)) == .end(.canceled, nil, takingOver: true))
    }

    @Test("a cancel request wins over the deadline, and the deadline over a start")
    func cancelAndDeadline() {
        #expect(TaskLifecycle.start(state(.queued, cancel: true, overdue: true)) == .end(.canceled, nil, takingOver: false))
        #expect(TaskLifecycle.start(state(.retrying, attempts: 1, overdue: true)) == .end(.failed, .expired, takingOver: false))
    }

    @Test("an ended attempt names its status, the status if the owner canceled, and how its reservation ends")
    func finishing() {
        let succeeded = TaskLifecycle.finish(.succeeded(cost: MicroDollars(40_000), images: 1))
        #expect(succeeded.status == .succeeded && succeeded.statusIfCancelRequested == .canceled)
        #expect(succeeded.reservation == .settled(MicroDollars(40_000), images: 1))

        let error = TaskError(code: "provider_timeout", message: "timed out")
        let retry = TaskLifecycle.finish(.retry(delayMilliseconds: 500, error: error, providerMayHaveBilled: true, countsAsAttempt: true))
        #expect(retry.status == .retrying && retry.retryDelayMilliseconds == 500 && retry.error == error)
        #expect(retry.reservation == .unsettled && retry.extraAttempts == 0)
        let keyRefused = TaskLifecycle.finish(.retry(delayMilliseconds: 0, error: error, providerMayHaveBilled: false, countsAsAttempt: false))
        #expect(keyRefused.reservation == .released && keyRefused.extraAttempts == 1)

        let failed = TaskLifecycle.finish(.failed(error, providerMayHaveBilled: false))
        #expect(failed.status == .failed && failed.reservation == .released && failed.retryDelayMilliseconds == nil)

        let handedBack = TaskLifecycle.finish(.handedBack(providerMayHaveBilled: true))
        #expect(handedBack.status == .queued && handedBack.extraAttempts == 1 && handedBack.keepsError)
        #expect(handedBack.reservation == .unsettled)
    }

    @Test("an owner's cancel ends a waiting task now, asks a running one's worker, and leaves a finished one")
    func cancel() {
        #expect(TaskLifecycle.cancel(.queued) == .cancelNow)
        #expect(TaskLifecycle.cancel(.retrying) == .cancelNow)
        #expect(TaskLifecycle.cancel(.running) == .askWorker)
        #expect(TaskLifecycle.cancel(.canceled) == .alreadyCanceled)
        #expect(TaskLifecycle.cancel(.succeeded) == .alreadyFinished(.succeeded))
        #expect(TaskLifecycle.waiting.allSatisfy { TaskLifecycle.cancel($0) == .cancelNow })
    }
}
