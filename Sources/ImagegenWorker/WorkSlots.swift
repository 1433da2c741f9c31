import Synchronization

/// Counts a worker's free concurrency slots and lets the dispatcher wait for one.
final class WorkSlots: Sendable {
    private struct State {
        var free: Int
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let total: Int
    private let state: Mutex<State>

    init(count: Int) {
        total = count
        state = Mutex(State(free: count))
    }

    /// Waits until at least one slot is free, then takes every free slot and returns how
    /// many; returns 0 at once after `close()`.
    func takeFree() async -> Int {
        while true {
            let taken = state.withLock { state -> Int? in
                if state.closed { return 0 }
                defer { state.free = 0 }
                return state.free > 0 ? state.free : nil
            }
            if let taken { return taken }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.free > 0 || state.closed { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Returns `count` slots, waking the dispatcher if it waits.
    func give(_ count: Int = 1) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.free += count
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Stops handing out slots, so that a dispatcher waiting for one returns.
    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No slot is in use: every task taken has finished.
    var isIdle: Bool {
        state.withLock { $0.free == total }
    }
}
