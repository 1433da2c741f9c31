/// What a provider model accepts. Loaded from the database, so a new or renamed
/// model is a row, not a code change.
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var maxPromptCharacters: Int
    public var maxImages: Int
    public var sizes: [String]
    public var qualities: [String]
    /// Empty when the model takes no `style`.
    public var styles: [String]
    public var defaultSize: String
    public var defaultQuality: String
    /// gpt-image models always answer in base64 and reject `response_format`.
    public var acceptsResponseFormat: Bool

    public init(
        name: String, maxPromptCharacters: Int, maxImages: Int, sizes: [String], qualities: [String],
        styles: [String], defaultSize: String, defaultQuality: String, acceptsResponseFormat: Bool
    ) {
        self.name = name
        self.maxPromptCharacters = maxPromptCharacters
        self.maxImages = maxImages
        self.sizes = sizes
        self.qualities = qualities
        self.styles = styles
        self.defaultSize = defaultSize
        self.defaultQuality = defaultQuality
        self.acceptsResponseFormat = acceptsResponseFormat
    }
}

/// The price of one image of a model at a size and quality.
public struct PriceKey: Sendable, Hashable {
    public var model: String
    public var size: String
    public var quality: String

    public init(model: String, size: String, quality: String) {
        self.model = model
        self.size = size
        self.quality = quality
    }
}

/// The models that may be requested and what each image costs.
public struct ModelCatalog: Sendable {
    public var models: [String: ModelSpec]
    public var prices: [PriceKey: MicroDollars]
    /// The rates of the models billed by tokens, by model name.
    public var tokenRates: [String: TokenRates]
    /// The model used when a request names none.
    public var defaultModel: String

    public init(
        models: [ModelSpec], prices: [PriceKey: MicroDollars], tokenRates: [String: TokenRates] = [:],
        defaultModel: String = "dall-e-3"
    ) {
        self.models = Dictionary(models.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.prices = prices
        self.tokenRates = tokenRates
        self.defaultModel = defaultModel
    }

    /// The request's price in force now, or nil when none is configured.
    public func price(of request: ImageRequest) -> TaskPrice? {
        prices[PriceKey(model: request.model, size: request.size, quality: request.quality)].map {
            TaskPrice(unit: $0, tokenRates: tokenRates[request.model])
        }
    }
}
