import Synchronization

/// Joins the calls that arrive while earlier ones are being written into the next batch, as
/// PostgreSQL's group commit does: no timer and no added wait when idle, and under load each
/// batch takes what queued up behind the one before, so one transaction serves many tasks.
final class Batcher<Input: Sendable, Output: Sendable>: Sendable {
    private struct Waiting {
        let input: Input
        let continuation: CheckedContinuation<Output, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var running = 0
    }

    private let state = Mutex(State())
    /// Batches written at once.
    private let concurrency: Int
    /// The most inputs, and the most total weight, one batch takes (a batch always takes one).
    private let maxCount: Int
    private let maxWeight: Int
    private let weight: @Sendable (Input) -> Int
    private let write: @Sendable ([Input]) async throws -> [Output]

    /// - Parameter write: writes a batch and returns one output per input, in order.
    init(
        concurrency: Int, maxCount: Int, maxWeight: Int = .max, weight: @escaping @Sendable (Input) -> Int = { _ in 1 },
        write: @escaping @Sendable ([Input]) async throws -> [Output]
    ) {
        self.concurrency = concurrency
        self.maxCount = maxCount
        self.maxWeight = maxWeight
        self.weight = weight
        self.write = write
    }

    /// Writes `input` with whatever else is waiting. Not cancellable: once submitted, it is written.
    func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let startsWriter = state.withLock { state -> Bool in
                state.waiting.append(Waiting(input: input, continuation: continuation))
                guard state.running < concurrency else { return false }
                state.running += 1
                return true
            }
            if startsWriter { Task { await self.writeWhileWaiting() } }
        }
    }

    private func writeWhileWaiting() async {
        while let batch = nextBatch() {
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
