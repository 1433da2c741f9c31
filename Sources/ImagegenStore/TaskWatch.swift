import Foundation
import Synchronization

/// One waiter's interest in one task's changes, from `TaskChangeListener.watch(_:)`.
public final class TaskWatch: Sendable {
    public let taskID: UUID
    private let state = Mutex<State>(State())
    private let onClose: @Sendable (TaskWatch) -> Void

    private struct State {
        var changed = false
        var waiter: CheckedContinuation<Bool, Never>?
    }

    init(taskID: UUID, onClose: @escaping @Sendable (TaskWatch) -> Void) {
        self.taskID = taskID
        self.onClose = onClose
    }

    /// Waits until the task changes, or `timeout` passes, or the caller is cancelled.
    /// Returns whether it changed; a change that came before the call counts at once.
    public func nextChange(within timeout: Duration) async -> Bool {
        if consumeChange() { return true }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.resolve(false)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let early = state.withLock { state -> Bool? in
                    if state.changed {
                        state.changed = false
                        return true
                    }
                    if Task.isCancelled { return false }
                    state.waiter = continuation
                    return nil
                }
                if let early { continuation.resume(returning: early) }
            }
        } onCancel: {
            resolve(false)
        }
    }

    /// Stops watching.
    public func close() {
        onClose(self)
        resolve(false)
    }

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.changed = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    private func resolve(_ changed: Bool) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: changed)
    }

    private func consumeChange() -> Bool {
        state.withLock { state in
            defer { state.changed = false }
            return state.changed
        }
    }
}
