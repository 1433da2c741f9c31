import BlockingIO
import Dispatch
import Synchronization
import Testing

/// A resource that notices being used by two calls at once.
private final class Counted: Sendable {
    let name: String
    private let users = Atomic<Int>(0)
    private let overlaps = Atomic<Int>(0)

    init(_ name: String) { self.name = name }

    func use(_ work: () -> Void) {
        if users.add(1, ordering: .sequentiallyConsistent).newValue > 1 { overlaps.add(1, ordering: .relaxed) }
        work()
        users.subtract(1, ordering: .sequentiallyConsistent)
    }

    var overlapped: Int { overlaps.load(ordering: .relaxed) }
}

/// How far the calls of a test have come.
private final class Progress: Sendable {
    let holding = Atomic<Int>(0)
    let thirdDone = Atomic<Bool>(false)
}

@Suite("A lane pool serves one line of calls with its lanes")
struct LanePoolTests {
    @Test("a call takes the first lane that comes free, not the one it would have queued behind")
    func firstFreeLane() async throws {
        let pool = LanePool(label: "test.first-free", resources: [Counted("a"), Counted("b")])
        // The lanes block on these; the test itself only ever awaits, so that it holds no thread.
        let release = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let progress = Progress()
        func hold(_ index: Int) -> Task<String, any Error> {
            Task {
                try await pool.withResource { resource -> String in
                    progress.holding.add(1, ordering: .relaxed)
                    release[index].wait()
                    return resource.name
                }
            }
        }
        let first = hold(0)
        try await eventually { progress.holding.load(ordering: .relaxed) == 1 }
        let second = hold(1)
        try await eventually { progress.holding.load(ordering: .relaxed) == 2 }
        #expect(progress.holding.load(ordering: .relaxed) == 2)
        // Both lanes are busy: the third call waits in line.
        let third = Task {
            defer { progress.thirdDone.store(true, ordering: .relaxed) }
            return try await pool.withResource { $0.name }
        }
        release[1].signal()
        let secondName = try await second.value
        // The first call still holds its lane, so the third can only have taken the second's.
        try await eventually { progress.thirdDone.load(ordering: .relaxed) }
        let thirdEndedWhileFirstHeld = progress.thirdDone.load(ordering: .relaxed)
        release[0].signal()
        #expect(thirdEndedWhileFirstHeld)
        #expect(try await third.value == secondName)
        #expect(try await first.value != secondName)
    }

    /// Waits until `condition` holds or 60 s pass; the limit only ends a hang, and the caller
    /// checks the condition.
    private func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test("no resource serves two calls at once, whatever the number of callers")
    func exclusiveUse() async throws {
        let resources = [Counted("a"), Counted("b"), Counted("c")]
        let pool = LanePool(label: "test.exclusive", resources: resources)
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<300 {
                group.addTask {
                    try await pool.withResource { resource in
                        resource.use { for _ in 0..<200 { _ = DispatchTime.now() } }
                        return resource.name
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(names.count == 300)
        #expect(resources.map(\.overlapped) == [0, 0, 0])
    }

    @Test("a body's error reaches its caller and frees the lane")
    func errorsFreeTheLane() async throws {
        struct Refused: Error {}
        let pool = LanePool(label: "test.errors", resources: [Counted("only")])
        await #expect(throws: Refused.self) { try await pool.withResource { _ -> Int in throw Refused() } }
        #expect(try await pool.withResource { $0.name } == "only")
    }
}
