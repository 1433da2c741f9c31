import Synchronization

/// Lets one caller at a time through, in arrival order, so that calls waiting out a rate
/// limit queue in the process instead of each polling Redis.
final class Turnstile: Sendable {
    private struct State {
        var occupied = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func enter() async {
        if state.withLock({ state in
            defer { state.occupied = true }
            return !state.occupied
        }) { return }
        await withCheckedContinuation { continuation in
            let enterNow = state.withLock { state -> Bool in
                if !state.occupied {
                    state.occupied = true
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if enterNow { continuation.resume() }
        }
    }

    /// Whether nobody is inside or waiting.
    var isIdle: Bool { state.withLock { !$0.occupied } }

    /// Lets the next caller through; it stays occupied on its behalf.
    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.occupied = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
