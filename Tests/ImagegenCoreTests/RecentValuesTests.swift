import ImagegenCore
import Testing

@Suite("Recent values: a fetched value serves lookups for its max age, and the cache stays within its capacity")
struct RecentValuesTests {
    private let start = ContinuousClock.now

    @Test("a value is served until it is max age old, then looked up again")
    func expiry() {
        let recent = RecentValues<String, Int>(maxAge: .seconds(1), capacity: 10)
        #expect(recent.value(for: "a", at: start) == nil)
        recent.store(1, for: "a", fetchedAt: start)
        #expect(recent.value(for: "a", at: start) == 1)
        #expect(recent.value(for: "a", at: start + .milliseconds(999)) == 1)
        #expect(recent.value(for: "b", at: start) == nil)
        #expect(recent.value(for: "a", at: start + .seconds(1)) == nil)
        // The expired entry was dropped when it was found expired.
        #expect(recent.count == 0)
        recent.store(2, for: "a", fetchedAt: start + .seconds(2))
        #expect(recent.value(for: "a", at: start + .seconds(2)) == 2)
    }

    @Test("past capacity, expired entries go first, then all of them; a key already kept is replaced in place")
    func capacity() {
        let recent = RecentValues<Int, Int>(maxAge: .seconds(1), capacity: 3)
        recent.store(0, for: 0, fetchedAt: start)
        recent.store(1, for: 1, fetchedAt: start + .milliseconds(500))
        recent.store(2, for: 2, fetchedAt: start + .milliseconds(600))
        recent.store(20, for: 2, fetchedAt: start + .milliseconds(700))
        #expect(recent.count == 3)

        // Key 0 has expired by now: it goes, and the fresh ones stay.
        recent.store(3, for: 3, fetchedAt: start + .milliseconds(1_200))
        #expect(recent.count == 3)
        #expect(recent.value(for: 0, at: start + .milliseconds(1_200)) == nil)
        #expect(recent.value(for: 2, at: start + .milliseconds(1_200)) == 20)

        // Everything is fresh and there is no room: all go, and the new one is kept.
        recent.store(4, for: 4, fetchedAt: start + .milliseconds(1_300))
        #expect(recent.count == 1)
        #expect(recent.value(for: 4, at: start + .milliseconds(1_300)) == 4)
        #expect(recent.value(for: 3, at: start + .milliseconds(1_300)) == nil)
    }
}
