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

    /// Runs `body` on the lane and suspends the caller until it returns.
    public func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Swift.Result { try body() })
            }
        }
    }
}
