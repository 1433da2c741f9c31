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
    /// When the provider stops serving the model, if it has said so.
    public var retirement: Retirement?
    /// An operator keeps the model available past its retirement (their provider still serves it).
    public var keptAvailable: Bool
    /// The gpt-image fields' values the model takes; empty when it takes no such field.
    public var outputFormats: [String]
    public var backgrounds: [String]
    public var moderations: [String]
    /// Sizes beyond `sizes` the model takes, when it takes any WxH within a rule.
    public var sizeRule: SizeRule?
    /// Output tokens of one 1024x1024 image by quality, for token-billed models: what a size
    /// without a price row reserves, scaled by its area.
    public var outputTokensPerSquare: [String: Int]
    /// The providers that serve the model, in the order tasks try them; empty when the
    /// deployment's default provider serves it.
    public var routes: [ModelRoute]
    /// Models of one tier make images of comparable quality: fallback may move a task between them.
    public var tier: String?
    /// The most partial images the model streams while it draws; 0 when it streams none.
    public var maxPartialImages: Int

    /// Whether a request for the model is refused: its retirement day has come and nobody keeps it.
    public var isRetired: Bool { retirement?.hasBegun == true && !keptAvailable }

    public init(
        name: String, maxPromptCharacters: Int, maxImages: Int, sizes: [String], qualities: [String],
        styles: [String], defaultSize: String, defaultQuality: String, acceptsResponseFormat: Bool,
        retirement: Retirement? = nil, keptAvailable: Bool = false, outputFormats: [String] = [], backgrounds: [String] = [],
        moderations: [String] = [], sizeRule: SizeRule? = nil, outputTokensPerSquare: [String: Int] = [:], routes: [ModelRoute] = [],
        tier: String? = nil, maxPartialImages: Int = 0
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
        self.retirement = retirement
        self.keptAvailable = keptAvailable
        self.outputFormats = outputFormats
        self.backgrounds = backgrounds
        self.moderations = moderations
        self.sizeRule = sizeRule
        self.outputTokensPerSquare = outputTokensPerSquare
        self.routes = routes
        self.tier = tier
        self.maxPartialImages = maxPartialImages
    }

    /// Whether the model takes `size`: one of its sizes, or a WxH within its rule.
    public func takes(size: String) -> Bool {
        sizes.contains(size) || (sizeRule.map { rule in Self.dimensions(size).map(rule.allows) ?? false } ?? false)
    }

    /// Width and height of a `WxH` size written in plain digits.
    public static func dimensions(_ size: String) -> (width: Int, height: Int)? {
        let parts = size.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 5 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let width = Int(parts[0]), let height = Int(parts[1]) else { return nil }
        return (width, height)
    }
}

/// Any WxH whose sides are multiples of `step`, the longest at most `maxSide` and the area
/// at most `maxPixels`.
public struct SizeRule: Sendable, Equatable {
    public var step: Int
    public var maxSide: Int
    public var maxPixels: Int

    public init(step: Int, maxSide: Int, maxPixels: Int) {
        self.step = step
        self.maxSide = maxSide
        self.maxPixels = maxPixels
    }

    public func allows(_ size: (width: Int, height: Int)) -> Bool {
        size.width > 0 && size.height > 0 && size.width % step == 0 && size.height % step == 0
            && max(size.width, size.height) <= maxSide && size.width * size.height <= maxPixels
    }

    /// The rule in words, for a refusal.
    public var description: String {
        "WxH with sides that are multiples of \(step), the longest at most \(maxSide) and at most \(maxPixels) pixels"
    }
}

/// The day a provider stops serving a model, and the model it names instead.
public struct Retirement: Sendable, Equatable {
    /// `YYYY-MM-DD`, UTC.
    public var day: String
    public var replacement: String?
    /// Whether the day had come when the catalog was read.
    public var hasBegun: Bool

    public init(day: String, replacement: String?, hasBegun: Bool) {
        self.day = day
        self.replacement = replacement
        self.hasBegun = hasBegun
    }

    /// What a request for the retired `model` is told.
    public func refusal(of model: String) -> String {
        "\(model) was retired on \(day)" + (replacement.map { "; use \($0) instead" } ?? "")
            + " (an operator whose provider still serves it can keep it available)"
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

    /// - Parameter keptModels: models this deployment keeps available past their retirement,
    ///   besides those kept in the database.
    public init(
        models: [ModelSpec], prices: [PriceKey: MicroDollars], tokenRates: [String: TokenRates] = [:],
        defaultModel: String = "gpt-image-2", keptModels: Set<String> = []
    ) {
        let models = models.map { model in
            var model = model
            model.keptAvailable = model.keptAvailable || keptModels.contains(model.name)
            return model
        }
        self.models = Dictionary(models.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.prices = prices
        self.tokenRates = tokenRates
        self.defaultModel = defaultModel
    }

    /// Why a request that names no model would be refused, or nil when the default is
    /// available: a deployment should not start with a default nobody may use.
    public var defaultModelProblem: String? {
        guard let model = models[defaultModel] else {
            return "\(defaultModel) is not in the catalog; available models are \(availableModels.map(\.name).joined(separator: ", "))"
        }
        guard model.isRetired, let retirement = model.retirement else { return nil }
        return retirement.refusal(of: model.name) + "; set DEFAULT_MODEL to another model, or KEEP_MODELS=\(model.name) if your provider still serves it"
    }

    /// The models a request may name now, by name.
    public var availableModels: [ModelSpec] {
        models.values.filter { !$0.isRetired }.sorted { $0.name < $1.name }
    }

    /// The request's price in force now, or nil when none is configured.
    public func price(of request: ImageRequest) -> TaskPrice? {
        let rates = tokenRates[request.model]
        if let unit = prices[PriceKey(model: request.model, size: request.size, quality: request.quality)] {
            return TaskPrice(unit: unit, tokenRates: rates)
        }
        // A size the rule allows but no row prices: the most its output tokens can cost.
        guard let rates, let model = models[request.model], let square = model.outputTokensPerSquare[request.quality],
              let (width, height) = ModelSpec.dimensions(request.size) else { return nil }
        let tokens = (Int64(square) * Int64(width) * Int64(height) + 1_048_575) / 1_048_576
        return TaskPrice(unit: rates.cost(of: TokenUsage(textInputTokens: 0, imageInputTokens: 0, outputTokens: tokens)), tokenRates: rates)
    }
}
