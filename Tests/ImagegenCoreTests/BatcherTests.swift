import ImagegenCore
import Synchronization
import Testing

@Suite("Batch linger: after a small batch the next one fills for a while; a large batch or an old one does not wait")
struct LingerTests {
    private let linger = Linger(interval: .milliseconds(40), below: 16)
    private let taken = ContinuousClock.now

    @Test("after a small batch, the next is taken once the interval has passed since it")
    func smallBatchWaits() {
        #expect(linger.nextTake(afterTaking: 1, at: taken, now: taken + .milliseconds(5), waiting: 1) == taken + .milliseconds(40))
        #expect(linger.nextTake(afterTaking: 15, at: taken, now: taken, waiting: 15) == taken + .milliseconds(40))
        #expect(linger.nextTake(afterTaking: 1, at: taken, now: taken + .milliseconds(40), waiting: 1) == nil)
        #expect(linger.nextTake(afterTaking: 1, at: taken, now: taken + .milliseconds(100), waiting: 1) == nil)
    }

    @Test("once a full batch's worth waits, the next is taken at once, however small the last one was")
    func fullBatchWaitingDoesNot() {
        #expect(linger.nextTake(afterTaking: 1, at: taken, now: taken + .milliseconds(5), waiting: 16) == nil)
        #expect(linger.nextTake(afterTaking: 1, at: taken, now: taken + .milliseconds(5), waiting: 15) == taken + .milliseconds(40))
    }

    @Test("after a batch the load filled, the next is taken at once; no linger never waits")
    func largeBatchDoesNot() {
        #expect(linger.nextTake(afterTaking: 16, at: taken, now: taken, waiting: 1) == nil)
        #expect(linger.nextTake(afterTaking: 512, at: taken, now: taken + .milliseconds(1), waiting: 1) == nil)
        #expect(Linger.none.nextTake(afterTaking: 1, at: taken, now: taken, waiting: 1) == nil)
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

@Suite("Batcher: a second batch is written alongside the first only with a backlog or a full batch waiting")
struct BatcherConcurrencyTests {
    /// Submits 1, holds its batch in the writer, then submits 2 and says whether 2's batch
    /// began while 1's was still being written.
    private func secondWritesAlongside(backlog: Bool) async throws -> Bool {
        let firstWriting = AsyncStream<Void>.makeStream()
        let releaseFirst = AsyncStream<Void>.makeStream()
        let writing = Mutex<(now: Int, most: Int)>((0, 0))
        // Lingering for no time, but a full batch is 16: one waiting input alone does not fill it.
        let batcher = Batcher<Int, Int>(
            concurrency: 2, maxCount: 512, linger: Linger(interval: .zero, below: 16), mayLinger: { !backlog }
        ) { inputs in
            writing.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            defer { writing.withLock { $0.now -= 1 } }
            if inputs == [1] {
                firstWriting.continuation.yield()
                for await _ in releaseFirst.stream { break }
            }
            return inputs
        }
        async let first = batcher.submit(1)
        for await _ in firstWriting.stream { break }
        async let second = batcher.submit(2)
        if backlog {
            // The second writer takes 2 at once; its batch ends while 1's is still held.
            while writing.withLock({ $0.most }) < 2 { await Task.yield() }
        } else {
            while batcher.waiting == 0 { await Task.yield() }
        }
        let alongside = writing.withLock { $0.most } == 2
        releaseFirst.continuation.yield()
        #expect(try await first == 1)
        #expect(try await second == 2)
        return alongside
    }

    @Test("without a backlog the next batch waits for the one being written, so that it fills", .timeLimit(.minutes(1)))
    func oneWriterWithoutBacklog() async throws {
        #expect(try await secondWritesAlongside(backlog: false) == false)
    }

    @Test("with a backlog a second writer takes what waits at once", .timeLimit(.minutes(1)))
    func twoWritersWithBacklog() async throws {
        #expect(try await secondWritesAlongside(backlog: true))
    }
}
