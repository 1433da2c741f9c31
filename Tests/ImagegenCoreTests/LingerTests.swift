@testable import ImagegenWorker
import Testing

@Suite("Batch linger: after a small batch the next one fills for a while; a large batch or an old one does not wait")
struct LingerTests {
    private let linger = Linger(interval: .milliseconds(40), below: 16)
    private let taken = ContinuousClock.now

    @Test("after a small batch, the next is taken once the interval has passed since it")
    func smallBatchWaits() {
        #expect(linger.nextTake(afterTaking: 1, at: taken, now: taken + .milliseconds(5)) == taken + .milliseconds(40))
        #expect(linger.nextTake(afterTaking: 15, at: taken, now: taken) == taken + .milliseconds(40))
        #expect(linger.nextTake(afterTaking: 1, at: taken, now: taken + .milliseconds(40)) == nil)
        #expect(linger.nextTake(afterTaking: 1, at: taken, now: taken + .milliseconds(100)) == nil)
    }

    @Test("after a batch the load filled, the next is taken at once; no linger never waits")
    func largeBatchDoesNot() {
        #expect(linger.nextTake(afterTaking: 16, at: taken, now: taken) == nil)
        #expect(linger.nextTake(afterTaking: 512, at: taken, now: taken + .milliseconds(1)) == nil)
        #expect(Linger.none.nextTake(afterTaking: 1, at: taken, now: taken) == nil)
    }
}
