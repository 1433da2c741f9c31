/// Turns a client's JSON body into an `ImageRequest` that its model accepts.
public struct ImageRequestValidator: Sendable {
    public static let fields: Set<String> = [
        "prompt", "model", "size", "quality", "style", "n", "user", "background", "output_format", "output_compression", "moderation",
        "partial_images", "fallback",
    ]
    static let maxEndUserLength = 256

    public let catalog: ModelCatalog

    public init(catalog: ModelCatalog) {
        self.catalog = catalog
    }

    public func validate(_ body: JSONValue) throws(ValidationError) -> ImageRequest {
        guard case .object(let object) = body else {
            throw ValidationError(code: "invalid_body", field: nil, message: "the request body must be a JSON object")
        }
        if let unknown = object.keys.filter({ !Self.fields.contains($0) }).sorted().first {
            throw ValidationError(
                code: "unknown_field", field: unknown,
                message: "unknown field \(unknown); accepted fields are \(Self.fields.sorted().joined(separator: ", "))"
            )
        }
        guard let promptValue = object["prompt"], promptValue != .null else {
            throw ValidationError(code: "missing_field", field: "prompt", message: "prompt is required")
        }
        let prompt = try string(promptValue, field: "prompt")
        var modelName = catalog.defaultModel
        if let modelValue = object["model"], modelValue != .null {
            modelName = try string(modelValue, field: "model")
        }
        guard let model = catalog.models[modelName] else {
            throw ValidationError(
                code: "unknown_model", field: "model",
                message: "model \(modelName) is not available; available models are \(catalog.availableModels.map(\.name).joined(separator: ", "))"
            )
        }
        if model.isRetired, let retirement = model.retirement {
            throw ValidationError(code: "model_retired", field: "model", message: retirement.refusal(of: model.name))
        }
        if prompt.allSatisfy(\.isWhitespace) {
            throw ValidationError(code: "invalid_value", field: "prompt", message: "prompt must not be empty")
        }
        if prompt.unicodeScalars.contains("\u{0}") {
            throw ValidationError(code: "invalid_value", field: "prompt", message: "prompt must not contain NUL characters")
        }
        if prompt.count > model.maxPromptCharacters {
            throw ValidationError(
                code: "prompt_too_long", field: "prompt",
                message: "prompt has \(prompt.count) characters; \(model.name) accepts at most \(model.maxPromptCharacters)"
            )
        }
        let size = try size(object["size"], model: model)
        let quality = try choice(
            object["quality"], field: "quality", allowed: model.qualities, default: model.defaultQuality, model: model.name
        )
        var style: String?
        if let styleValue = object["style"], styleValue != .null {
            guard !model.styles.isEmpty else {
                throw ValidationError(code: "invalid_value", field: "style", message: "\(model.name) does not take a style")
            }
            style = try choice(styleValue, field: "style", allowed: model.styles, default: model.styles[0], model: model.name)
        }
        let n = try count(object["n"], maxImages: model.maxImages, model: model.name)
        var endUser: String?
        if let userValue = object["user"], userValue != .null {
            let user = try string(userValue, field: "user")
            guard user.count <= Self.maxEndUserLength, !user.unicodeScalars.contains("\u{0}") else {
                throw ValidationError(
                    code: "invalid_value", field: "user",
                    message: "user must be at most \(Self.maxEndUserLength) characters without NUL"
                )
            }
            endUser = user
        }
        var fallback: Bool?
        if let fallbackValue = object["fallback"], fallbackValue != .null {
            guard case .bool(let given) = fallbackValue else {
                throw ValidationError(code: "invalid_type", field: "fallback", message: "fallback must be true or false")
            }
            fallback = given
        }
        return ImageRequest(
            prompt: prompt, model: model.name, size: size, quality: quality, style: style, n: n, endUser: endUser,
            options: try options(object, model: model, n: n), fallback: fallback
        )
    }

    /// The request as `model` would run it, when that model takes it exactly as it is (the
    /// same size, quality and count, no field it lacks): checked by the same rules as a
    /// submission, so fallback never sends a provider what a request for its model could not.
    public func request(_ request: ImageRequest, on model: String) -> ImageRequest? {
        var body: [String: JSONValue] = [
            "prompt": .string(request.prompt), "model": .string(model), "size": .string(request.size),
            "quality": .string(request.quality), "n": .integer(Int64(request.n)),
        ]
        body["style"] = request.style.map { .string($0) }
        body["user"] = request.endUser.map { .string($0) }
        body["background"] = request.options?.background.map { .string($0) }
        body["output_format"] = request.options?.outputFormat.map { .string($0) }
        body["output_compression"] = request.options?.outputCompression.map { .integer(Int64($0)) }
        body["moderation"] = request.options?.moderation.map { .string($0) }
        body["partial_images"] = request.options?.partialImages.map { .integer(Int64($0)) }
        return try? validate(.object(body))
    }

    /// The gpt-image fields the request gave, each checked against the values the model takes.
    private func options(_ object: [String: JSONValue], model: ModelSpec, n: Int) throws(ValidationError) -> ImageOptions? {
        func option(_ field: String, allowed: [String]) throws(ValidationError) -> String? {
            guard let value = object[field], value != .null else { return nil }
            guard !allowed.isEmpty else {
                throw ValidationError(code: "invalid_value", field: field, message: "\(model.name) does not take \(field)")
            }
            return try choice(value, field: field, allowed: allowed, default: allowed[0], model: model.name)
        }
        var options = ImageOptions(
            background: try option("background", allowed: model.backgrounds),
            outputFormat: try option("output_format", allowed: model.outputFormats),
            moderation: try option("moderation", allowed: model.moderations)
        )
        if let value = object["output_compression"], value != .null {
            guard case .integer(let compression) = value else {
                throw ValidationError(
                    code: "invalid_type", field: "output_compression", message: "output_compression must be a whole number, not \(value.typeName)"
                )
            }
            guard ["jpeg", "webp"].contains(options.outputFormat) else {
                throw ValidationError(
                    code: "invalid_value", field: "output_compression", message: "output_compression applies to output_format jpeg or webp"
                )
            }
            guard (0...100).contains(compression) else {
                throw ValidationError(code: "invalid_value", field: "output_compression", message: "output_compression must be from 0 to 100")
            }
            options.outputCompression = Int(compression)
        }
        if let value = object["partial_images"], value != .null {
            guard case .integer(let count) = value else {
                throw ValidationError(
                    code: "invalid_type", field: "partial_images", message: "partial_images must be a whole number, not \(value.typeName)"
                )
            }
            guard model.maxPartialImages > 0 else {
                throw ValidationError(code: "invalid_value", field: "partial_images", message: "\(model.name) does not stream partial images")
            }
            guard (0...Int64(model.maxPartialImages)).contains(count) else {
                throw ValidationError(
                    code: "invalid_value", field: "partial_images", message: "partial_images must be from 0 to \(model.maxPartialImages)"
                )
            }
            // The provider streams one image's drafts: a request for several images cannot stream.
            guard count == 0 || n == 1 else {
                throw ValidationError(code: "invalid_value", field: "partial_images", message: "partial_images needs n = 1")
            }
            options.partialImages = count == 0 ? nil : Int(count)
        }
        return options == ImageOptions() ? nil : options
    }

    private func string(_ value: JSONValue, field: String) throws(ValidationError) -> String {
        guard case .string(let text) = value else {
            throw ValidationError(code: "invalid_type", field: field, message: "\(field) must be a string, not \(value.typeName)")
        }
        return text
    }

    private func choice(
        _ value: JSONValue?, field: String, allowed: [String], default defaultValue: String, model: String
    ) throws(ValidationError) -> String {
        guard let value, value != .null else { return defaultValue }
        let text = try string(value, field: field)
        guard allowed.contains(text) else {
            throw ValidationError(
                code: "invalid_value", field: field,
                message: "\(field) \(text) is not supported by \(model); use one of \(allowed.joined(separator: ", "))"
            )
        }
        return text
    }

    /// One of the model's sizes, or a WxH within its size rule.
    private func size(_ value: JSONValue?, model: ModelSpec) throws(ValidationError) -> String {
        guard let value, value != .null else { return model.defaultSize }
        let size = try string(value, field: "size")
        guard model.takes(size: size) else {
            let allowed = model.sizes.joined(separator: ", ") + (model.sizeRule.map { ", or any \($0.description)" } ?? "")
            throw ValidationError(code: "invalid_value", field: "size", message: "size \(size) is not supported by \(model.name); use one of \(allowed)")
        }
        return size
    }

    private func count(_ value: JSONValue?, maxImages: Int, model: String) throws(ValidationError) -> Int {
        guard let value, value != .null else { return 1 }
        guard case .integer(let n) = value else {
            throw ValidationError(code: "invalid_type", field: "n", message: "n must be a whole number, not \(value.typeName)")
        }
        guard n >= 1, n <= maxImages else {
            throw ValidationError(
                code: "invalid_value", field: "n",
                message: maxImages == 1 ? "\(model) generates exactly 1 image per request (n=1)" : "n must be from 1 to \(maxImages) for \(model)"
            )
        }
        return Int(n)
    }
}
