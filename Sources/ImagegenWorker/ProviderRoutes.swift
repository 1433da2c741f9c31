import ImagegenProvider
import ImagegenProviderGate

/// A provider this worker calls, and the gate its calls pass: its keys, shared rate limit and
/// circuit breaker, one per provider across all workers.
public struct ProviderRoute: Sendable {
    /// The name models' routes give the provider (`model_routes.provider`).
    public let name: String
    public let provider: any ImageProvider
    public let gate: ProviderGate

    public init(name: String, provider: any ImageProvider, gate: ProviderGate) {
        self.name = name
        self.provider = provider
        self.gate = gate
    }
}

/// The providers a worker calls, by name. The first also runs the tasks of models that
/// name no route.
public struct ProviderRoutes: Sendable {
    let all: [ProviderRoute]
    private let byName: [String: ProviderRoute]

    public init(_ routes: [ProviderRoute]) {
        precondition(!routes.isEmpty, "a worker needs at least one provider")
        all = routes
        byName = Dictionary(routes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The first provider, which runs the models that name no route.
    public var standard: ProviderRoute { all[0] }

    /// The provider a route names, or the default one for nil; nil when this worker has no such provider.
    func route(named name: String?) -> ProviderRoute? {
        guard let name else { return all[0] }
        return byName[name]
    }

    /// Of a task's routes (their providers, its own first), those this worker can call, each
    /// with its position in the task's list.
    func candidates(_ providers: [String?]) -> [(position: Int, route: ProviderRoute)] {
        providers.enumerated().compactMap { position, name in route(named: name).map { (position, $0) } }
    }
}

/// Which of its routes an attempt takes: its own while that one admits calls or only paces
/// them, and the next one when a route is down (breaker open or probing, every key set
/// aside for quota or rejection). A rate limit is waited out where it is: moving would pay
/// another price for a wait of seconds.
enum RouteChoice {
    enum Step: Equatable {
        /// Call through this route with the admission given.
        case take
        /// Wait at this route until it admits the call.
        case waitHere
        /// Try the next route.
        case next
        /// Every route is down: wait at the task's own until it admits the call.
        case waitAtFirst
    }

    /// What to do after one look at a route's gate.
    /// - Parameter isLast: whether no route is left to try.
    static func step(after decision: GateDecision, isLast: Bool) -> Step {
        switch decision {
        case .admitted: .take
        case .wait(_, let reason): !isDown(reason) ? .waitHere : isLast ? .waitAtFirst : .next
        }
    }

    /// Whether the gate's reason to wait means the route cannot serve calls for a while.
    static func isDown(_ reason: String) -> Bool {
        reason.hasPrefix("breaker") || reason == "out_of_quota" || reason == "key_rejected"
    }
}
