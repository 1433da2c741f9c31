import Foundation
import ImagegenCore
import Testing

@Suite("Requests are checked against their model's rules")
struct ImageRequestValidatorTests {
    static let catalog = ModelCatalog(
        models: [
            ModelSpec(
                name: "dall-e-3", maxPromptCharacters: 4000, maxImages: 1, sizes: ["1024x1024", "1792x1024", "1024x1792"],
                qualities: ["standard", "hd"], styles: ["vivid", "natural"], defaultSize: "1024x1024", defaultQuality: "standard",
                acceptsResponseFormat: true
            ),
            ModelSpec(
                name: "dall-e-2", maxPromptCharacters: 1000, maxImages: 10, sizes: ["256x256", "512x512", "1024x1024"],
                qualities: ["standard"], styles: [], defaultSize: "1024x1024", defaultQuality: "standard", acceptsResponseFormat: true
            ),
        ],
        prices: [:],
        defaultModel: "dall-e-3"
    )

    private func validate(_ json: String) throws(ValidationError) -> ImageRequest {
        let value = try! JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        return try ImageRequestValidator(catalog: Self.catalog).validate(value)
    }

    @Test("only the prompt is required; the rest default per model")
    func defaults() throws {
        let request = try validate(#"{"prompt": "a fox"}"#)
        #expect(request == ImageRequest(prompt: "a fox", model: "dall-e-3", size: "1024x1024", quality: "standard", style: nil, n: 1, endUser: nil))
    }

    @Test("every field is carried through when valid")
    func fullRequest() throws {
        let request = try validate(#"{"prompt": "a fox", "model": "dall-e-3", "size": "1792x1024", "quality": "hd", "style": "natural", "n": 1, "user": "u-1"}"#)
        #expect(request.size == "1792x1024")
        #expect(request.quality == "hd")
        #expect(request.style == "natural")
        #expect(request.endUser == "u-1")
    }

    @Test("the longest allowed prompt is counted in characters, not bytes")
    func promptCountsCharacters() throws {
        let emoji = String(repeating: "🦊", count: 1000)
        #expect(try validate(#"{"prompt": "\#(emoji)", "model": "dall-e-2"}"#).prompt.count == 1000)
        #expect(throws: ValidationError.self) { try validate(#"{"prompt": "\#(emoji)x", "model": "dall-e-2"}"#) }
    }

    @Test("null counts as absent for optional fields")
    func nullIsAbsent() throws {
        #expect(try validate(#"{"prompt": "x", "size": null, "style": null, "n": null}"#).n == 1)
    }

    @Test("an error names the field and a stable code")
    func errorNamesField() {
        #expect(throws: ValidationError(code: "invalid_value", field: "n", message: "dall-e-3 generates exactly 1 image per request (n=1)")) {
            try validate(#"{"prompt": "x", "n": 2}"#)
        }
        #expect(throws: ValidationError(code: "invalid_type", field: "quality", message: "quality must be a string, not boolean")) {
            try validate(#"{"prompt": "x", "quality": true}"#)
        }
    }
}
