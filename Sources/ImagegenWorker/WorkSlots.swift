import Synchronization

/// Counts a worker's free concurrency slots and lets the dispatcher wait for one.
final class WorkSlots: Sendable {
    private struct State {
        var count: SlotCount
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(count: SlotCount(total: count)))
    }

    /// Waits until at least one slot is free, then takes every free slot and returns how
    /// many; returns 0 at once after `close()`.
    func takeFree() async -> Int {
        while true {
            let taken = state.withLock { state -> Int? in
                if state.closed { return 0 }
                let taken = state.count.takeFree()
                return taken > 0 ? taken : nil
            }
            if let taken { return taken }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.count.free > 0 || state.closed { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Returns `count` slots, waking the dispatcher if it waits.
    func give(_ count: Int = 1) {
        update { $0.give(count) }
    }

    /// A task's provider call ended and its outcome is to be recorded (`SlotCount.callEnded()`).
    func callEnded() {
        update { $0.callEnded() }
    }

    /// A task whose call ended is done with.
    func recorded() {
        update { $0.recorded() }
    }

    private func update(_ change: (inout SlotCount) -> Void) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            change(&state.count)
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

    /// No slot is in use and nothing is being recorded: every task taken has finished.
    var isIdle: Bool {
        state.withLock { $0.count.isIdle }
    }
}

/// The counting behind `WorkSlots`, apart from waiting.
///
/// A slot is a provider call: it comes free when the call ends, not when its outcome has
/// been recorded, so that the next task's call need not wait for the recording batch (a
/// wave of a thousand calls ending together otherwise restarted only as fast as PostgreSQL
/// recorded it). Up to `total` tasks may be recording besides; past that, an ended call
/// keeps its slot until a recording ends, so that a slow database bounds the results held
/// in memory to two slots' worth.
struct SlotCount: Equatable {
    let total: Int
    private(set) var free: Int
    /// Tasks whose call ended and whose outcome is being recorded.
    private(set) var recording = 0
    /// Slots of ended calls held back because `total` were recording.
    private(set) var owed = 0

    init(total: Int) {
        self.total = total
        self.free = total
    }

    /// Takes every free slot and says how many.
    mutating func takeFree() -> Int {
        defer { free = 0 }
        return free
    }

    /// Slots of tasks that ended without a call ending (handed back, dropped) or were never used.
    mutating func give(_ count: Int) {
        free += count
    }

    /// A taken slot's call ended; follow with `recorded()` once its outcome is stored.
    mutating func callEnded() {
        recording += 1
        if recording > total { owed += 1 } else { free += 1 }
    }

    mutating func recorded() {
        recording -= 1
        if owed > 0 {
            owed -= 1
            free += 1
        }
    }

    var isIdle: Bool { free == total && recording == 0 }
}
