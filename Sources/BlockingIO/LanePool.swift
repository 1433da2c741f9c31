import Synchronization

/// A fixed set of lanes, each owning one resource; work goes to the least busy lane.
///
/// Used for both PostgreSQL and Redis connections so that the two share one way of
/// keeping blocking calls off async threads.
public final class LanePool<Resource: AnyObject & Sendable>: Sendable {
    private struct Member: Sendable {
        let lane: BlockingLane
        let resource: Resource
    }

    private let members: [Member]
    private let load: Mutex<[Int]>

    public init(label: String, resources: [Resource]) {
        precondition(!resources.isEmpty, "a lane pool needs at least one resource")
        self.members = resources.enumerated().map { index, resource in
            Member(lane: BlockingLane(label: "\(label).\(index)"), resource: resource)
        }
        self.load = Mutex(Array(repeating: 0, count: resources.count))
    }

    public var count: Int { members.count }

    /// Runs `body` with exclusive use of one resource, on that resource's lane.
    @discardableResult
    public func withResource<Result: Sendable>(
        _ body: @escaping @Sendable (Resource) throws -> Result
    ) async throws -> Result {
        let index = load.withLock { load -> Int in
            let index = load.indices.min { load[$0] < load[$1] }!
            load[index] += 1
            return index
        }
        defer { load.withLock { $0[index] -= 1 } }
        let member = members[index]
        return try await member.lane.run { try body(member.resource) }
    }
}
