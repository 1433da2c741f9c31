import Foundation
import ImagegenCore
import PostgresClient

/// Reads the enabled models and the prices in force now.
public struct CatalogStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// - Parameter keptModels: models this deployment keeps available past their retirement (KEEP_MODELS).
    public func load(defaultModel: String, keptModels: Set<String> = []) async throws -> ModelCatalog {
        let (modelRows, priceRows, tokenRows, routeRows) = try await database.run { connection in
            let models = try connection.query("""
                SELECT name, max_prompt_characters, max_images, array_to_string(sizes, ',') AS sizes,
                       array_to_string(qualities, ',') AS qualities, array_to_string(styles, ',') AS styles,
                       default_size, default_quality, accepts_response_format, kept_available, replacement,
                       array_to_string(output_formats, ',') AS output_formats, array_to_string(backgrounds, ',') AS backgrounds,
                       array_to_string(moderations, ',') AS moderations, size_step, max_side, max_pixels,
                       coalesce(output_tokens::text, '{}') AS output_tokens,
                       to_char(retires_on, 'YYYY-MM-DD') AS retires_on,
                       coalesce(retires_on <= (now() AT TIME ZONE 'UTC')::date, false) AS retired, tier, max_partial_images
                FROM models WHERE enabled
                """)
            let prices = try connection.query("""
                SELECT DISTINCT ON (model, size, quality) model, size, quality, unit_price_micro_usd
                FROM prices WHERE effective_from <= now()
                ORDER BY model, size, quality, effective_from DESC
                """)
            let tokenRates = try connection.query("""
                SELECT DISTINCT ON (model) model, \(TokenRates.columns)
                FROM token_prices WHERE effective_from <= now()
                ORDER BY model, effective_from DESC
                """)
            let routes = try connection.query("SELECT model, provider, provider_model FROM model_routes ORDER BY model, position")
            return (models, prices, tokenRates, routes)
        }
        var routes: [String: [ModelRoute]] = [:]
        for row in routeRows.map({ $0 }) {
            routes[try row.string("model"), default: []].append(
                ModelRoute(provider: try row.string("provider"), providerModel: try row.optionalString("provider_model"))
            )
        }
        let models = try modelRows.map { row in
            ModelSpec(
                name: try row.string("name"),
                maxPromptCharacters: Int(try row.int("max_prompt_characters")),
                maxImages: Int(try row.int("max_images")),
                sizes: try row.string("sizes").split(separator: ",").map(String.init),
                qualities: try row.string("qualities").split(separator: ",").map(String.init),
                styles: try row.string("styles").split(separator: ",").map(String.init),
                defaultSize: try row.string("default_size"),
                defaultQuality: try row.string("default_quality"),
                acceptsResponseFormat: try row.bool("accepts_response_format"),
                retirement: try row.optionalString("retires_on").map { day in
                    Retirement(day: day, replacement: try row.optionalString("replacement"), hasBegun: try row.bool("retired"))
                },
                keptAvailable: try row.bool("kept_available"),
                outputFormats: try row.string("output_formats").split(separator: ",").map(String.init),
                backgrounds: try row.string("backgrounds").split(separator: ",").map(String.init),
                moderations: try row.string("moderations").split(separator: ",").map(String.init),
                sizeRule: try row.optionalInt("size_step").map { step in
                    SizeRule(step: Int(step), maxSide: Int(try row.int("max_side")), maxPixels: Int(try row.int("max_pixels")))
                },
                outputTokensPerSquare: (try? JSONDecoder().decode([String: Int].self, from: Data(try row.string("output_tokens").utf8))) ?? [:],
                routes: routes[try row.string("name")] ?? [], tier: try row.optionalString("tier"),
                maxPartialImages: Int(try row.int("max_partial_images"))
            )
        }
        var prices: [PriceKey: MicroDollars] = [:]
        for row in priceRows.map({ $0 }) {
            let key = PriceKey(model: try row.string("model"), size: try row.string("size"), quality: try row.string("quality"))
            prices[key] = MicroDollars(try row.int("unit_price_micro_usd"))
        }
        var tokenRates: [String: TokenRates] = [:]
        for row in tokenRows.map({ $0 }) {
            tokenRates[try row.string("model")] = try TokenRates(row)
        }
        return ModelCatalog(models: models, prices: prices, tokenRates: tokenRates, defaultModel: defaultModel, keptModels: keptModels)
    }

    /// Adds a price that takes effect at `effectiveFrom` (now when nil); earlier prices stay,
    /// so tasks and reports of the past keep the price that was in force for them.
    public func setPrice(
        model: String, size: String, quality: String, unitPrice: MicroDollars, effectiveFrom: Date?
    ) async throws -> PriceChange {
        try await database.transaction { connection in
            guard let spec = try connection.query(
                "SELECT array_to_string(sizes, ',') AS sizes, array_to_string(qualities, ',') AS qualities FROM models WHERE name = $1",
                [.text(model)]
            ).first else { return .unknownModel }
            guard try spec.string("sizes").split(separator: ",").contains(Substring(size)),
                  try spec.string("qualities").split(separator: ",").contains(Substring(quality)) else { return .unknownOption }
            let row = try connection.query(
                """
                INSERT INTO prices (model, size, quality, unit_price_micro_usd, effective_from)
                VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()))
                ON CONFLICT (model, size, quality, effective_from) DO UPDATE SET unit_price_micro_usd = excluded.unit_price_micro_usd
                RETURNING \(rfc3339("effective_from")) AS effective_from
                """,
                [
                    .text(model), .text(size), .text(quality), .int(unitPrice.value),
                    .optional(effectiveFrom.map { $0.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }),
                ]
            ).first!
            return .set(effectiveFrom: try row.string("effective_from"))
        }
    }
}

/// What `setPrice` did.
extension CatalogStore {
    /// Sets the day `model` retires and the model to use instead; nil `day` withdraws a
    /// retirement. Returns false when there is no such model, or no such replacement.
    public func setRetirement(model: String, day: String?, replacement: String?) async throws -> Bool {
        try await database.run { connection in
            if let replacement, try connection.query("SELECT 1 FROM models WHERE name = $1", [.text(replacement)]).isEmpty { return false }
            return try connection.query(
                "UPDATE models SET retires_on = $2::date, replacement = $3 WHERE name = $1",
                [.text(model), .optional(day), .optional(day == nil ? nil : replacement)]
            ).affectedRows == 1
        }
    }

    /// Keeps `model` available past its retirement (its provider still serves it), or stops
    /// keeping it. Returns false when there is no such model.
    public func keepAvailable(model: String, _ kept: Bool) async throws -> Bool {
        try await database.run { connection in
            try connection.query(
                "UPDATE models SET kept_available = $2 WHERE name = $1", [.text(model), .text(kept ? "true" : "false")]
            ).affectedRows == 1
        }
    }
}

extension CatalogStore {
    /// Adds `name` with the rules of `template` (sizes, qualities, fields, prompt length, n),
    /// in `tier`, without routes or prices: the deployment's default provider serves it until
    /// routes are set, and requests for it are refused until it has a price.
    public func addModel(_ name: String, like template: String, tier: String?) async throws -> ModelAddition {
        try await database.transaction { connection in
            guard try connection.query("SELECT 1 FROM models WHERE name = $1", [.text(template)]).first != nil else { return .unknownTemplate }
            let added = try connection.query(
                """
                INSERT INTO models (name, max_prompt_characters, max_images, sizes, qualities, styles, default_size, default_quality,
                                    accepts_response_format, output_formats, backgrounds, moderations, size_step, max_side, max_pixels,
                                    output_tokens, max_partial_images, tier)
                SELECT $1, max_prompt_characters, max_images, sizes, qualities, styles, default_size, default_quality,
                       accepts_response_format, output_formats, backgrounds, moderations, size_step, max_side, max_pixels, output_tokens,
                       max_partial_images, $3
                FROM models WHERE name = $2
                ON CONFLICT (name) DO NOTHING
                """,
                [.text(name), .text(template), .optional(tier)]
            )
            return added.affectedRows == 1 ? .added : .exists
        }
    }

    /// Replaces the model's routes with `routes`, tried in that order; none leaves the model to
    /// the deployment's default provider. Returns false when there is no such model.
    public func setRoutes(model: String, _ routes: [ModelRoute]) async throws -> Bool {
        try await database.transaction { connection in
            guard try connection.query("SELECT 1 FROM models WHERE name = $1 FOR UPDATE", [.text(model)]).first != nil else { return false }
            try connection.query("DELETE FROM model_routes WHERE model = $1", [.text(model)])
            for (index, route) in routes.enumerated() {
                try connection.query(
                    "INSERT INTO model_routes (model, provider, provider_model, position) VALUES ($1, $2, $3, $4)",
                    [.text(model), .text(route.provider), .optional(route.providerModel), .int(index + 1)]
                )
            }
            return true
        }
    }

    /// Puts the model in `tier` (nil: none, so fallback only uses its own routes). Returns false when there is no such model.
    public func setTier(model: String, _ tier: String?) async throws -> Bool {
        try await database.run { connection in
            try connection.query("UPDATE models SET tier = $2 WHERE name = $1", [.text(model), .optional(tier)]).affectedRows == 1
        }
    }

    /// The models requests may not name because an operator disabled them, by name.
    public func disabledModels() async throws -> [String] {
        try await database.run { connection in
            try connection.query("SELECT name FROM models WHERE NOT enabled ORDER BY name")
        }.map { try $0.string("name") }
    }

    /// Lets requests name the model, or stops them. Returns false when there is no such model.
    public func setEnabled(model: String, _ enabled: Bool) async throws -> Bool {
        try await database.run { connection in
            try connection.query(
                "UPDATE models SET enabled = $2 WHERE name = $1", [.text(model), .text(enabled ? "true" : "false")]
            ).affectedRows == 1
        }
    }
}

/// What `addModel` did.
public enum ModelAddition: Sendable, Equatable {
    case added
    case exists
    case unknownTemplate
}

public enum PriceChange: Sendable, Equatable {
    case set(effectiveFrom: String)
    case unknownModel
    /// The model does not offer that size or quality.
    case unknownOption
}

extension TokenRates {
    /// The `token_prices` columns that `init(_:)` reads.
    static let columns = "text_input_micro_usd_per_million, image_input_micro_usd_per_million, output_micro_usd_per_million"

    init(_ row: PostgresRow) throws {
        self.init(
            textInputPerMillion: try row.int("text_input_micro_usd_per_million"),
            imageInputPerMillion: try row.int("image_input_micro_usd_per_million"),
            outputPerMillion: try row.int("output_micro_usd_per_million")
        )
    }
}
