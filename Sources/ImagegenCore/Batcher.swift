import Synchronization

/// Joins the calls that arrive while earlier ones are being written into the next batch, as
/// PostgreSQL's group commit does: no timer and no added wait when idle, and under load each
/// batch takes what queued up behind the one before, so one transaction serves many tasks.
///
/// A steady trickle would otherwise be written in batches of one or two as fast as the
/// database answers, and take every core the API left idle: a writer whose last batch was
/// small lets the next one fill for `linger` (as PostgreSQL's `commit_delay` does), so the
/// trickle costs a few transactions a second and the API's requests find the cores free. It
/// does so only while `mayLinger` says so: a worker with a backlog is bound by how fast it
/// writes, and waiting would only slow it.
public final class Batcher<Input: Sendable, Output: Sendable>: Sendable {
    private struct Waiting {
        let input: Input
        let continuation: CheckedContinuation<Output, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var running = 0
    }

    private let state = Mutex(State())
    /// Batches written at once while `mayLinger` says no (a backlog) or a full batch waits; one otherwise.
    private let concurrency: Int
    /// The most inputs, and the most total weight, one batch takes (a batch always takes one).
    private let maxCount: Int
    private let maxWeight: Int
    private let weight: @Sendable (Input) -> Int
    private let linger: Linger
    private let mayLinger: @Sendable () -> Bool
    private let write: @Sendable ([Input]) async throws -> [Output]

    /// - Parameter write: writes a batch and returns one output per input, in order.
    public init(
        concurrency: Int, maxCount: Int, maxWeight: Int = .max, weight: @escaping @Sendable (Input) -> Int = { _ in 1 },
        linger: Linger = .none, mayLinger: @escaping @Sendable () -> Bool = { true },
        write: @escaping @Sendable ([Input]) async throws -> [Output]
    ) {
        self.linger = linger
        self.mayLinger = mayLinger
        self.concurrency = concurrency
        self.maxCount = maxCount
        self.maxWeight = maxWeight
        self.weight = weight
        self.write = write
    }

    /// Writes `input` with whatever else is waiting. Not cancellable: once submitted, it is written.
    public func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let startsWriter = state.withLock { state -> Bool in
                state.waiting.append(Waiting(input: input, continuation: continuation))
                // A second writer would halve the batches a trickle fills while lingering: it starts
                // only for a backlog or once a full batch waits.
                let writers = !mayLinger() || state.waiting.count >= linger.below ? concurrency : 1
                guard state.running < writers else { return false }
                state.running += 1
                return true
            }
            if startsWriter { Task { await self.writeWhileWaiting() } }
        }
    }

    private func writeWhileWaiting() async {
        var last: (taken: ContinuousClock.Instant, count: Int)?
        while true {
            let waiting = self.waiting
            if let last, waiting > 0, mayLinger(),
                let due = linger.nextTake(afterTaking: last.count, at: last.taken, now: .now, waiting: waiting)
            {
                try? await Task.sleep(until: due, clock: .continuous)
            }
            guard let batch = nextBatch() else { return }
            last = (.now, batch.count)
            do {
                try await resume(batch, with: write(batch.map(\.input)))
            } catch where batch.count > 1 {
                // One input may be what fails the batch: write each alone, so that it fails only itself.
                for waiting in batch {
                    do {
                        try await resume([waiting], with: write([waiting.input]))
                    } catch {
                        waiting.continuation.resume(throwing: error)
                    }
                }
            } catch {
                batch[0].continuation.resume(throwing: error)
            }
        }
    }

    private func resume(_ batch: [Waiting], with outputs: [Output]) {
        precondition(outputs.count == batch.count, "a batch writer returns one output per input")
        for (waiting, output) in zip(batch, outputs) { waiting.continuation.resume(returning: output) }
    }

    /// Inputs submitted and not yet taken into a batch.
    public var waiting: Int { state.withLock { $0.waiting.count } }

    /// Takes the next batch off the waiting list, or ends this writer when nothing waits.
    private func nextBatch() -> [Waiting]? {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            var count = 0, total = 0
            while count < state.waiting.count, count < maxCount {
                let next = weight(state.waiting[count].input)
                if count > 0, total + next > maxWeight { break }
                total += next
                count += 1
            }
            defer { state.waiting.removeFirst(count) }
            return Array(state.waiting.prefix(count))
        }
    }
}

/// How long a batch writer lets a batch fill after a small one: after taking fewer than
/// `below` inputs, it takes the next batch no sooner than `interval` later, unless `below`
/// already wait. A large batch means the load already fills batches, and a writer with
/// nothing waiting stops, so an idle worker's next call is written at once.
public struct Linger: Sendable, Equatable {
    public let interval: Duration
    public let below: Int

    public init(interval: Duration, below: Int) {
        self.interval = interval
        self.below = below
    }

    public static let none = Linger(interval: .zero, below: 0)

    /// When the next batch may be taken, after taking `count` inputs at `taken` with `waiting`
    /// inputs waiting now; nil for now.
    public func nextTake(
        afterTaking count: Int, at taken: ContinuousClock.Instant, now: ContinuousClock.Instant, waiting: Int
    ) -> ContinuousClock.Instant? {
        guard count < below, waiting < below, taken + interval > now else { return nil }
        return taken + interval
    }
}
