import Foundation
import ImagegenCore
import Testing

@Suite("gpt-image-2's size rule: multiples of 16, longest side 3840, 8,294,400 pixels; priced by area")
struct SizeRuleTests {
    static let catalog = ModelCatalog(
        models: [
            ModelSpec(
                name: "gpt-image-2", maxPromptCharacters: 32000, maxImages: 10, sizes: ["1024x1024", "auto"], qualities: ["low", "high"],
                styles: [], defaultSize: "1024x1024", defaultQuality: "low", acceptsResponseFormat: false,
                sizeRule: SizeRule(step: 16, maxSide: 3840, maxPixels: 8_294_400), outputTokensPerSquare: ["low": 272, "high": 4160]
            )
        ],
        prices: [PriceKey(model: "gpt-image-2", size: "1024x1024", quality: "low"): MicroDollars(8160)],
        tokenRates: ["gpt-image-2": TokenRates(textInputPerMillion: 5_000_000, imageInputPerMillion: 8_000_000, outputPerMillion: 30_000_000)]
    )

    private func size(_ size: String) -> String? {
        let value = try! JSONDecoder().decode(JSONValue.self, from: Data(#"{"prompt": "a", "size": "\#(size)"}"#.utf8))
        return try? ImageRequestValidator(catalog: Self.catalog).validate(value).size
    }

    @Test("sizes within the rule are taken, others refused", arguments: [
        ("2048x1152", true), ("3840x2160", true), ("16x16", true), ("auto", true),
        ("1000x1000", false), ("3856x16", false), ("3840x2176", false), ("0x1024", false), ("1024x", false), ("x1024", false),
        ("1024x1024x16", false), ("+1024x1024", false), ("１０２４x1024", false), ("99999999999x16", false),
    ])
    func rule(_ candidate: String, _ taken: Bool) {
        #expect((size(candidate) == candidate) == taken, "\(candidate)")
    }

    @Test("a size with no price row reserves its output tokens at the output rate: 4160 x 4 tokens at 2048x2048 high")
    func priceByArea() throws {
        let request = ImageRequest(prompt: "a", model: "gpt-image-2", size: "2048x2048", quality: "high", style: nil, n: 2, endUser: nil)
        let price = try #require(Self.catalog.price(of: request))
        #expect(price.unit == MicroDollars(16_640 * 30))
        #expect(price.reservation(for: request) == MicroDollars(2 * 16_640 * 30 + 5))  // and the 1-byte prompt at $5/M
        // A listed size keeps its price row.
        let listed = ImageRequest(prompt: "a", model: "gpt-image-2", size: "1024x1024", quality: "low", style: nil, n: 1, endUser: nil)
        #expect(Self.catalog.price(of: listed)?.unit == MicroDollars(8160))
        // 2048x1152 low: 272 x 2.25 = 612 tokens.
        let wide = ImageRequest(prompt: "a", model: "gpt-image-2", size: "2048x1152", quality: "low", style: nil, n: 1, endUser: nil)
        #expect(Self.catalog.price(of: wide)?.unit == MicroDollars(612 * 30))
    }
}
