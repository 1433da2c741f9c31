import Foundation
import Synchronization

/// Caps how many long polls and event streams one user holds open in this API process at
/// once, so that one client cannot tie up every connection and notification watch.
///
/// Counted per user, not per key: a user's keys share the cap, so more keys do not buy more.
final class WaiterLimit: Sendable {
    let perUser: Int
    private let open = Mutex<[UUID: Int]>([:])

    init(perUser: Int) {
        self.perUser = perUser
    }

    /// Takes a place for `userID`, or throws 429 `too_many_waiters`; give it back with `leave`.
    func enter(_ userID: UUID) throws {
        let admitted = open.withLock { open -> Bool in
            guard open[userID, default: 0] < perUser else { return false }
            open[userID, default: 0] += 1
            return true
        }
        guard admitted else {
            throw APIError(
                .tooManyRequests, code: "too_many_waiters",
                message: "this user already holds \(perUser) long polls or event streams open; close one or poll without ?wait",
                headers: [.retryAfter: String(APIHandlers.pollAfterSeconds)]
            )
        }
    }

    func leave(_ userID: UUID) {
        open.withLock { open in
            open[userID, default: 1] -= 1
            if open[userID] == 0 { open[userID] = nil }
        }
    }
}
