import ImagegenCore

extension APIHandlers {
    /// `GET /images/models`: what a request may name now (no retired model unless it is kept), and what it costs.
    func listModels(_ input: Operations.ListModels.Input) async throws -> Operations.ListModels.Output {
        _ = try AuthenticatedUser.required()
        let catalog = try await catalog.catalog()
        let models = catalog.availableModels.map { ModelBody($0, in: catalog) }
        return .ok(.init(body: .json(.init(defaultModel: catalog.defaultModel, models: models))))
    }
}

/// The `Model` schema, typed by hand because its `token_rates` is null, not absent, for a
/// model priced per image, and so are `size_rule` for a model with listed sizes only and
/// `retires_on` and `replacement` for a model with no retirement announced (`Nullable`).
struct ModelBody: Codable, Hashable, Sendable {
    struct Price: Codable, Hashable, Sendable {
        let size: String
        let quality: String
        let usd: String
        let micro_usd: Int64
    }

    struct Rates: Codable, Hashable, Sendable {
        let text_input_usd: String
        let image_input_usd: String
        let output_usd: String
    }

    let name: String
    let max_images: Int
    let max_prompt_characters: Int
    let sizes: [String]
    let qualities: [String]
    let styles: [String]
    let default_size: String
    let default_quality: String
    let prices: [Price]
    let token_rates: Nullable<Rates>
    struct SizeRuleBody: Codable, Hashable, Sendable {
        let step: Int
        let max_side: Int
        let max_pixels: Int
    }

    let output_formats: [String]
    let backgrounds: [String]
    let moderations: [String]
    let size_rule: Nullable<SizeRuleBody>
    let retires_on: Nullable<String>
    let replacement: Nullable<String>
    let kept_available: Bool
    let providers: [String]
    let tier: Nullable<String>
    let max_partial_images: Int

    init(_ model: ModelSpec, in catalog: ModelCatalog) {
        name = model.name
        output_formats = model.outputFormats
        backgrounds = model.backgrounds
        moderations = model.moderations
        size_rule = Nullable(model.sizeRule.map { SizeRuleBody(step: $0.step, max_side: $0.maxSide, max_pixels: $0.maxPixels) })
        retires_on = Nullable(model.retirement?.day)
        replacement = Nullable(model.retirement?.replacement)
        kept_available = model.keptAvailable && model.retirement?.hasBegun == true
        providers = model.routes.map(\.provider)
        tier = Nullable(model.tier)
        max_partial_images = model.maxPartialImages
        max_images = model.maxImages
        max_prompt_characters = model.maxPromptCharacters
        sizes = model.sizes
        qualities = model.qualities
        styles = model.styles
        default_size = model.defaultSize
        default_quality = model.defaultQuality
        prices = model.sizes.flatMap { size in
            model.qualities.compactMap { quality in
                catalog.prices[PriceKey(model: model.name, size: size, quality: quality)].map {
                    Price(size: size, quality: quality, usd: $0.usd, micro_usd: $0.value)
                }
            }
        }
        token_rates = Nullable(catalog.tokenRates[model.name].map {
            Rates(
                text_input_usd: MicroDollars($0.textInputPerMillion).usd, image_input_usd: MicroDollars($0.imageInputPerMillion).usd,
                output_usd: MicroDollars($0.outputPerMillion).usd
            )
        })
    }
}
