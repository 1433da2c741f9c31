import Dispatch

/// A serial lane on a dedicated Dispatch thread for blocking C calls.
///
/// Blocking calls (libpq, hiredis) must never run on NIO event loops or the Swift
/// cooperative pool. A lane owns exactly one connection, so the connection has one
/// owner at a time by construction, and callers batch several calls into one hop.
public final class BlockingLane: Sendable {
    private let queue: DispatchQueue

    public init(label: String) {
        self.queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    /// Runs `work` on the lane, after whatever the lane was given before it.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        queue.async { work() }
    }
}
