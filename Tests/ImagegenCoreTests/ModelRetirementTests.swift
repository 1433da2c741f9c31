import Foundation
import ImagegenCore
import Testing

@Suite("A model past its retirement day is refused by name, unless it is kept available")
struct ModelRetirementTests {
    static func catalog(kept: Set<String> = [], defaultModel: String = "gpt-image-2", begun: Bool = true) -> ModelCatalog {
        ModelCatalog(
            models: [
                ModelSpec(
                    name: "dall-e-3", maxPromptCharacters: 4000, maxImages: 1, sizes: ["1024x1024"], qualities: ["standard"],
                    styles: [], defaultSize: "1024x1024", defaultQuality: "standard", acceptsResponseFormat: true,
                    retirement: Retirement(day: "2026-05-12", replacement: "gpt-image-2", hasBegun: begun)
                ),
                ModelSpec(
                    name: "gpt-image-2", maxPromptCharacters: 32000, maxImages: 10, sizes: ["1024x1024"], qualities: ["low", "auto"],
                    styles: [], defaultSize: "1024x1024", defaultQuality: "auto", acceptsResponseFormat: false
                ),
            ],
            prices: [:], defaultModel: defaultModel, keptModels: kept
        )
    }

    private func validate(_ json: String, in catalog: ModelCatalog) throws(ValidationError) -> ImageRequest {
        let value = try! JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        return try ImageRequestValidator(catalog: catalog).validate(value)
    }

    @Test("a retired model is a 422 model_retired naming the day and the replacement; the default is the current model")
    func retiredIsRefused() throws {
        let catalog = Self.catalog()
        #expect(throws: ValidationError.self) { try validate(#"{"prompt": "a fox", "model": "dall-e-3"}"#, in: catalog) }
        do {
            _ = try validate(#"{"prompt": "a fox", "model": "dall-e-3"}"#, in: catalog)
        } catch {
            #expect(error.code == "model_retired")
            #expect(error.field == "model")
            #expect(error.message.hasPrefix("dall-e-3 was retired on 2026-05-12; use gpt-image-2 instead"))
        }
        #expect(try validate(#"{"prompt": "a fox"}"#, in: catalog).model == "gpt-image-2")
        #expect(catalog.availableModels.map(\.name) == ["gpt-image-2"])
        #expect(catalog.defaultModelProblem == nil)
    }

    @Test("kept available or not yet retired, the model is served as before")
    func keptOrNotYet() throws {
        #expect(try validate(#"{"prompt": "a fox", "model": "dall-e-3"}"#, in: Self.catalog(kept: ["dall-e-3"])).model == "dall-e-3")
        #expect(try validate(#"{"prompt": "a fox", "model": "dall-e-3"}"#, in: Self.catalog(begun: false)).model == "dall-e-3")
        #expect(Self.catalog(kept: ["dall-e-3"]).availableModels.map(\.name) == ["dall-e-3", "gpt-image-2"])
    }

    @Test("a retired or unknown default is a problem to report at start, naming the fix")
    func defaultProblems() {
        let retired = Self.catalog(defaultModel: "dall-e-3").defaultModelProblem
        #expect(retired?.contains("dall-e-3 was retired on 2026-05-12") == true)
        #expect(retired?.contains("KEEP_MODELS=dall-e-3") == true)
        #expect(Self.catalog(kept: ["dall-e-3"], defaultModel: "dall-e-3").defaultModelProblem == nil)
        #expect(Self.catalog(defaultModel: "dall-e-9").defaultModelProblem?.hasPrefix("dall-e-9 is not in the catalog") == true)
    }
}
