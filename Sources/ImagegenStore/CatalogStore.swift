import ImagegenCore
import PostgresClient

/// Reads the enabled models and the prices in force now.
public struct CatalogStore: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func load(defaultModel: String) async throws -> ModelCatalog {
        let (modelRows, priceRows) = try await database.run { connection in
            let models = try connection.query("""
                SELECT name, max_prompt_characters, max_images, array_to_string(sizes, ',') AS sizes,
                       array_to_string(qualities, ',') AS qualities, array_to_string(styles, ',') AS styles,
                       default_size, default_quality, accepts_response_format
                FROM models WHERE enabled
                """)
            let prices = try connection.query("""
                SELECT DISTINCT ON (model, size, quality) model, size, quality, unit_price_micro_usd
                FROM prices WHERE effective_from <= now()
                ORDER BY model, size, quality, effective_from DESC
                """)
            return (models, prices)
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
                acceptsResponseFormat: try row.bool("accepts_response_format")
            )
        }
        var prices: [PriceKey: MicroDollars] = [:]
        for row in priceRows.map({ $0 }) {
            let key = PriceKey(model: try row.string("model"), size: try row.string("size"), quality: try row.string("quality"))
            prices[key] = MicroDollars(try row.int("unit_price_micro_usd"))
        }
        return ModelCatalog(models: models, prices: prices, defaultModel: defaultModel)
    }
}
