/// The tokens a token-billed model (the gpt-image family) reports having used for one call.
public struct TokenUsage: Sendable, Equatable {
    public let textInputTokens: Int64
    public let imageInputTokens: Int64
    public let outputTokens: Int64

    public init(textInputTokens: Int64, imageInputTokens: Int64, outputTokens: Int64) {
        self.textInputTokens = textInputTokens
        self.imageInputTokens = imageInputTokens
        self.outputTokens = outputTokens
    }
}

/// What a token-billed model charges, in micro-dollars per million tokens, so that
/// fractional per-token prices such as $1.25 per million stay exact.
public struct TokenRates: Sendable, Equatable {
    public let textInputPerMillion: Int64
    public let imageInputPerMillion: Int64
    public let outputPerMillion: Int64

    public init(textInputPerMillion: Int64, imageInputPerMillion: Int64, outputPerMillion: Int64) {
        self.textInputPerMillion = textInputPerMillion
        self.imageInputPerMillion = imageInputPerMillion
        self.outputPerMillion = outputPerMillion
    }

    /// The cost of `usage`, rounded up to the next micro-dollar.
    public func cost(of usage: TokenUsage) -> MicroDollars {
        let total = usage.textInputTokens * textInputPerMillion + usage.imageInputTokens * imageInputPerMillion
            + usage.outputTokens * outputPerMillion
        return MicroDollars((total + 999_999) / 1_000_000)
    }
}

/// The price of a task as fixed when it was submitted: per image, plus token rates for a
/// model billed by tokens.
///
/// For a token-billed model the per-image price is the most one image's output tokens can
/// cost, so `reservation` is an upper bound of what the call can be charged.
public struct TaskPrice: Sendable, Equatable {
    public let unit: MicroDollars
    public let tokenRates: TokenRates?

    public init(unit: MicroDollars, tokenRates: TokenRates? = nil) {
        self.unit = unit
        self.tokenRates = tokenRates
    }

    /// What to reserve against the spend limits before calling the provider. A byte-level
    /// tokenizer never makes more tokens than the prompt has UTF-8 bytes, which bounds the
    /// text input.
    public func reservation(for request: ImageRequest) -> MicroDollars {
        let output = unit * request.n
        guard let tokenRates else { return output }
        let promptBound = TokenUsage(textInputTokens: Int64(request.prompt.utf8.count), imageInputTokens: 0, outputTokens: 0)
        return output + tokenRates.cost(of: promptBound)
    }

    /// What a call that returned `images` images is charged: by the provider's token usage
    /// when the model is billed by tokens and the provider reported it, per image otherwise.
    public func charge(images: Int, usage: TokenUsage?) -> MicroDollars {
        if let tokenRates, let usage { return tokenRates.cost(of: usage) }
        return unit * images
    }
}
