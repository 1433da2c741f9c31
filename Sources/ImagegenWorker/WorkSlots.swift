import Synchronization

/// Counts a worker's free concurrency slots and lets the dispatcher wait for one.
final class WorkSlots: Sendable {
    private struct State {
        var free: Int
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(free: count))
    }

    /// Waits until at least one slot is free, then takes every free slot and returns how many.
    func takeFree() async -> Int {
        while true {
            let taken = state.withLock { state -> Int in
                defer { state.free = 0 }
                return state.free
            }
            if taken > 0 { return taken }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.free > 0 { return true }
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
}
