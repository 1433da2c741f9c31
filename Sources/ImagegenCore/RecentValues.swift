import Synchronization

/// Values fetched in the last `maxAge`, by key, so that a burst of lookups of one key pays
/// for one fetch per `maxAge`; whoever reads through it accepts answers up to `maxAge` old.
///
/// At most `capacity` entries are kept. Storing past it first drops the expired entries and,
/// when every entry is fresh, all of them: a flood of distinct keys costs fetches, never
/// memory without bound.
public final class RecentValues<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    public let maxAge: Duration
    public let capacity: Int
    private let entries = Mutex<[Key: (value: Value, fetchedAt: ContinuousClock.Instant)]>([:])

    public init(maxAge: Duration, capacity: Int) {
        precondition(capacity > 0, "RecentValues needs room for at least one entry")
        self.maxAge = maxAge
        self.capacity = capacity
    }

    /// The value fetched for `key` less than `maxAge` before `now`, if any.
    public func value(for key: Key, at now: ContinuousClock.Instant = .now) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard now - entry.fetchedAt < maxAge else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    /// Remembers `value` as fetched for `key` at `fetchedAt`.
    public func store(_ value: Value, for key: Key, fetchedAt: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            if entries[key] == nil, entries.count >= capacity {
                entries = entries.filter { fetchedAt - $0.value.fetchedAt < maxAge }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = (value, fetchedAt)
        }
    }

    /// How many entries are kept now, fresh or not.
    public var count: Int { entries.withLock { $0.count } }
}
