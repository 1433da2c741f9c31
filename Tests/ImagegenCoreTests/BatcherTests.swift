import ImagegenCore
import Synchronization
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

@Suite("Batcher: a writer with a backlog writes the next batch at once, however long its linger")
struct BatcherBacklogTests {
    @Test("while mayLinger says no, a small batch is followed by the next without waiting", .timeLimit(.minutes(1)))
    func backlogDoesNotLinger() async throws {
        let firstWriting = AsyncStream<Void>.makeStream()
        let releaseFirst = AsyncStream<Void>.makeStream()
        let batches = Mutex<[[Int]]>([])
        // An hour's linger: were it applied, the second submission would not return within the test.
        let batcher = Batcher<Int, Int>(
            concurrency: 1, maxCount: 512, linger: Linger(interval: .seconds(3_600), below: 16), mayLinger: { false }
        ) { inputs in
            batches.withLock { $0.append(inputs) }
            if inputs == [1] {
                firstWriting.continuation.yield()
                for await _ in releaseFirst.stream { break }
            }
            return inputs.map { $0 * 10 }
        }
        async let first = batcher.submit(1)
        for await _ in firstWriting.stream { break }
        async let second = batcher.submit(2)
        // The second waits behind the first batch being written; then the first is let go.
        while batcher.waiting == 0 { await Task.yield() }
        releaseFirst.continuation.yield()
        #expect(try await first == 10)
        #expect(try await second == 20)
        #expect(batches.withLock { $0 } == [[1], [2]])
    }
}
