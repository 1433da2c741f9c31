import Foundation
import ImagegenCore
import Testing

@Suite("The gpt-image fields: checked against the model's values, sent on only when given")
struct ImageOptionsTests {
    static let catalog = ModelCatalog(
        models: [
            ModelSpec(
                name: "gpt-image-2", maxPromptCharacters: 32000, maxImages: 10, sizes: ["1024x1024", "1536x1024"],
                qualities: ["low", "auto"], styles: [], defaultSize: "1024x1024", defaultQuality: "auto", acceptsResponseFormat: false,
                outputFormats: ["png", "jpeg", "webp"], backgrounds: ["opaque", "auto"], moderations: ["low", "auto"], maxPartialImages: 3
            ),
            ModelSpec(
                name: "dall-e-3", maxPromptCharacters: 4000, maxImages: 1, sizes: ["1024x1024"], qualities: ["standard"], styles: [],
                defaultSize: "1024x1024", defaultQuality: "standard", acceptsResponseFormat: true
            ),
        ],
        prices: [:], defaultModel: "gpt-image-2"
    )

    private func validate(_ json: String) throws(ValidationError) -> ImageRequest {
        let value = try! JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        return try ImageRequestValidator(catalog: Self.catalog).validate(value)
    }

    private func refusal(_ json: String) -> ValidationError? {
        do {
            _ = try validate(json)
            return nil
        } catch {
            return error
        }
    }

    @Test("given fields are kept, and the media type follows output_format")
    func kept() throws {
        let request = try validate(
            #"{"prompt": "a fox", "size": "1536x1024", "quality": "low", "output_format": "jpeg", "output_compression": 80, "moderation": "low", "background": "opaque"}"#
        )
        #expect(request.options == ImageOptions(background: "opaque", outputFormat: "jpeg", outputCompression: 80, moderation: "low"))
        #expect(request.mediaType == "image/jpeg")
        #expect(ImageOptions(json: request.options!.json) == request.options)
        let plain = try validate(#"{"prompt": "a fox"}"#)
        #expect(plain.options == nil)
        #expect(plain.mediaType == "image/png")
        // A request without the fields has the digest it had before they existed.
        #expect(!String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("options"))
    }

    @Test("partial_images: kept up to the model's most, for one image; 0 is none; refused by a model that streams no drafts")
    func partialImages() throws {
        #expect(try validate(#"{"prompt": "a fox", "partial_images": 2}"#).options == ImageOptions(partialImages: 2))
        #expect(try validate(#"{"prompt": "a fox", "partial_images": 0}"#).options == nil)
        for (body, message) in [
            (#"{"prompt": "a fox", "partial_images": 4}"#, "partial_images must be from 0 to 3"),
            (#"{"prompt": "a fox", "partial_images": 1, "n": 2}"#, "partial_images needs n = 1"),
            (#"{"prompt": "a fox", "partial_images": "2"}"#, "partial_images must be a whole number, not string"),
            (#"{"prompt": "a fox", "model": "dall-e-3", "partial_images": 1}"#, "dall-e-3 does not stream partial images"),
        ] {
            let refused = refusal(body)
            #expect(refused?.field == "partial_images", "\(body)")
            #expect(refused?.message == message, "\(body)")
        }
    }

    @Test("a value the model does not take, a field it does not take, or compression without jpeg or webp is a 422 naming the field",
          arguments: [
              (#"{"prompt": "a", "background": "transparent"}"#, "background", "invalid_value"),
              (#"{"prompt": "a", "output_format": "gif"}"#, "output_format", "invalid_value"),
              (#"{"prompt": "a", "output_compression": 50}"#, "output_compression", "invalid_value"),
              (#"{"prompt": "a", "output_format": "png", "output_compression": 50}"#, "output_compression", "invalid_value"),
              (#"{"prompt": "a", "output_format": "webp", "output_compression": 101}"#, "output_compression", "invalid_value"),
              (#"{"prompt": "a", "output_format": "webp", "output_compression": "high"}"#, "output_compression", "invalid_type"),
              (#"{"prompt": "a", "moderation": 1}"#, "moderation", "invalid_type"),
              (#"{"prompt": "a", "model": "dall-e-3", "output_format": "jpeg"}"#, "output_format", "invalid_value"),
          ])
    func refused(_ json: String, _ field: String, _ code: String) {
        let error = refusal(json)
        #expect(error?.field == field)
        #expect(error?.code == code)
    }
}
