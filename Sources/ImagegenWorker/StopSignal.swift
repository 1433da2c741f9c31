import Foundation
import Synchronization

/// Tells a worker's attempts that the worker is stopping, and interrupts what may be
/// interrupted: waiting at the provider gate. Provider calls are never interrupted by it.
final class StopSignal: Sendable {
    private struct State {
        var stopped = false
        var interrupts: [UUID: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    var isStopped: Bool { state.withLock { $0.stopped } }

    func stop() {
        let interrupts = state.withLock { state -> [@Sendable () -> Void] in
            state.stopped = true
            defer { state.interrupts = [:] }
            return Array(state.interrupts.values)
        }
        for interrupt in interrupts { interrupt() }
    }

    /// Runs `body` until it ends or the worker stops, whichever comes first; on a stop it
    /// throws `CancellationError`.
    func untilStopped<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result {
        let work = Task { try await body() }
        let id = UUID()
        let stoppedAlready = state.withLock { state -> Bool in
            if !state.stopped { state.interrupts[id] = { work.cancel() } }
            return state.stopped
        }
        if stoppedAlready { work.cancel() }
        defer { _ = state.withLock { $0.interrupts.removeValue(forKey: id) } }
        return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
    }
}
