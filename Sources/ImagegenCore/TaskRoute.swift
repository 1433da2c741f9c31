/// A provider that serves a model, and the model's name there when it differs (a Replicate
/// `owner/name`, an Azure deployment).
public struct ModelRoute: Sendable, Equatable {
    public var provider: String
    public var providerModel: String?

    public init(provider: String, providerModel: String? = nil) {
        self.provider = provider
        self.providerModel = providerModel
    }
}

/// One way a task can run: the provider it calls, the model that makes its images, and the
/// unit price the task is reserved and charged at there, fixed at submission.
public struct TaskRoute: Sendable, Equatable, Codable {
    /// nil for a model that names no route: the worker's default provider runs it.
    public var provider: String?
    public var model: String
    public var providerModel: String?
    public var unitPriceMicroUSD: Int64

    public init(provider: String?, model: String, providerModel: String?, unitPrice: MicroDollars) {
        self.provider = provider
        self.model = model
        self.providerModel = providerModel
        self.unitPriceMicroUSD = unitPrice.value
    }

    enum CodingKeys: String, CodingKey {
        case provider
        case model
        case providerModel = "provider_model"
        case unitPriceMicroUSD = "unit_price_micro_usd"
    }
}

extension ModelCatalog {
    /// The routes a task for `request` may take, the one it runs on first.
    ///
    /// Without fallback, that is its model's first route alone. With fallback, the model's
    /// other routes follow, then the routes of the other available models of its tier that
    /// take the request as it is, each at that model's price (models by name, so the order
    /// is the same on every API process).
    public func routes(for request: ImageRequest, price: TaskPrice, fallback: Bool) -> [TaskRoute] {
        guard let model = models[request.model] else { return [] }
        let own = Self.routes(of: model, unitPrice: price.unit)
        guard fallback else { return Array(own.prefix(1)) }
        guard let tier = model.tier else { return own }
        let validator = ImageRequestValidator(catalog: self)
        let others = availableModels.filter { $0.tier == tier && $0.name != model.name }.flatMap { other -> [TaskRoute] in
            guard let moved = validator.request(request, on: other.name), let otherPrice = self.price(of: moved) else { return [] }
            return Self.routes(of: other, unitPrice: otherPrice.unit)
        }
        return own + others
    }

    private static func routes(of model: ModelSpec, unitPrice: MicroDollars) -> [TaskRoute] {
        guard !model.routes.isEmpty else { return [TaskRoute(provider: nil, model: model.name, providerModel: nil, unitPrice: unitPrice)] }
        return model.routes.map { TaskRoute(provider: $0.provider, model: model.name, providerModel: $0.providerModel, unitPrice: unitPrice) }
    }
}
