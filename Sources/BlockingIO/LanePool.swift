import Foundation

/// A fixed set of lanes, each owning one resource, serving one line of calls: a call takes
/// the first lane that comes free.
///
/// One line rather than one per lane: a call that joined a lane's own line waited for that
/// lane's current call to end, however long it took (a commit waiting for its flush), while
/// another lane came free; under the api benchmark a quarter of the API's PostgreSQL calls
/// did, p99 8-40 ms. Used for both PostgreSQL and Redis connections so that the two share one
/// way of keeping blocking calls off async threads.
public final class LanePool<Resource: AnyObject & Sendable>: Sendable {
    private struct Member: Sendable {
        let lane: BlockingLane
        let resource: Resource
    }

    private let members: [Member]
    private let line: LaneLine

    public init(label: String, resources: [Resource]) {
        precondition(!resources.isEmpty, "a lane pool needs at least one resource")
        self.members = resources.enumerated().map { index, resource in
            Member(lane: BlockingLane(label: "\(label).\(index)"), resource: resource)
        }
        self.line = LaneLine(idle: Array(resources.indices.reversed()))
    }

    public var count: Int { members.count }

    /// Runs `body` with exclusive use of one resource, on that resource's lane.
    @discardableResult
    public func withResource<Result: Sendable>(
        _ body: @escaping @Sendable (Resource) throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let members = self.members
            let call: LaneLine.Call = { index in continuation.resume(with: Swift.Result { try body(members[index].resource) }) }
            if let free = line.join(call) { serve(call, on: free) }
        }
    }

    /// Runs `call` on lane `index`, then the calls that waited meanwhile, oldest first, until
    /// none waits and the lane is free again.
    private func serve(_ call: @escaping LaneLine.Call, on index: Int) {
        members[index].lane.execute { [self] in
            var next: LaneLine.Call? = call
            while let current = next {
                current(index)
                next = line.next(freeing: index)
            }
        }
    }
}

/// The lanes free and the calls waiting for one, in the order they came. A lock rather than a
/// `Mutex`: the same state in a `Mutex` crashed release builds with a double free at the first
/// calls (Swift 6.3.1; the cause was not found), and this class does not.
private final class LaneLine: @unchecked Sendable {
    /// A waiting call: run on the lane it is given, with that lane's resource, it resumes its caller.
    typealias Call = @Sendable (_ lane: Int) -> Void

    private let lock = NSLock()
    /// Free lanes; the one freed last is taken first, its thread and connection warm.
    private var idle: [Int]
    private var waiting: [Call] = []

    init(idle: [Int]) {
        self.idle = idle
    }

    /// A free lane for `call`, or nil when it waits in line.
    func join(_ call: @escaping Call) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        if let index = idle.popLast() { return index }
        waiting.append(call)
        return nil
    }

    /// The call lane `index` takes on now that its last one ended, or nil with the lane free.
    func next(freeing index: Int) -> Call? {
        lock.lock()
        defer { lock.unlock() }
        guard !waiting.isEmpty else {
            idle.append(index)
            return nil
        }
        return waiting.removeFirst()
    }
}
