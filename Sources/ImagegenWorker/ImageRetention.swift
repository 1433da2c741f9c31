import Foundation
import ImagegenCore
import ImagegenStore

/// How long the images of finished tasks are kept before the reconciler's turn purges them.
public struct ImageRetention: Sendable {
    let store: RetentionStore
    let period: Duration

    public init(store: RetentionStore, period: Duration) {
        self.store = store
        self.period = period
    }

    /// Tasks that finished before this moment are past their retention.
    func cutoff(now: Date = Date()) -> Date {
        now.addingTimeInterval(-Double(period.milliseconds) / 1000)
    }
}
