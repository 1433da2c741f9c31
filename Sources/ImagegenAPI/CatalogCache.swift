import ImagegenCore
import ImagegenStore

/// The model catalog, reloaded from PostgreSQL at most every `maxAge` so that a
/// request does not pay for a catalog query, yet operators' changes arrive quickly.
actor CatalogCache {
    private let store: CatalogStore
    private let defaultModel: String
    private let keptModels: Set<String>
    private let maxAge: Duration
    private var cached: (catalog: ModelCatalog, loadedAt: ContinuousClock.Instant)?

    init(store: CatalogStore, defaultModel: String, keptModels: Set<String>, maxAge: Duration = .seconds(30)) {
        self.store = store
        self.defaultModel = defaultModel
        self.keptModels = keptModels
        self.maxAge = maxAge
    }

    func catalog() async throws -> ModelCatalog {
        let now = ContinuousClock.now
        if let cached, now - cached.loadedAt < maxAge { return cached.catalog }
        let catalog = try await store.load(defaultModel: defaultModel, keptModels: keptModels)
        cached = (catalog, now)
        return catalog
    }
}
