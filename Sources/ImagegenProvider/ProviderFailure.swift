/// Why a provider call produced no images, and whether trying again can help.
public struct ProviderFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code shown to the task's owner, e.g. `content_policy_violation`.
    public let code: String
    public let message: String
    /// Whether a later attempt may succeed (rate limits, outages, timeouts, bad bodies).
    public let isRetryable: Bool
    /// How long the provider asked us to wait, from `Retry-After`.
    public let retryAfterMilliseconds: Int64?
    public let httpStatus: Int?
    /// Whether the provider may have generated (and billed) images we never received: the
    /// request was sent but the answer was lost or unreadable. An error answer means it did not.
    public let providerMayHaveBilled: Bool

    public init(
        code: String, message: String, isRetryable: Bool, retryAfterMilliseconds: Int64? = nil, httpStatus: Int? = nil,
        providerMayHaveBilled: Bool = false
    ) {
        self.code = code
        self.message = message
        self.isRetryable = isRetryable
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.httpStatus = httpStatus
        self.providerMayHaveBilled = providerMayHaveBilled
    }

    public var description: String { "\(code): \(message)" }

    /// The worker gave up on the call (it is shutting down); the task goes back to the queue.
    public static let abandoned = ProviderFailure(
        code: "attempt_abandoned", message: "the worker stopped before the provider answered", isRetryable: true,
        providerMayHaveBilled: true
    )

    /// Classifies an error answer from an OpenAI-compatible API.
    ///
    /// The error's `code` decides where it is present; some image errors carry the
    /// type `image_generation_user_error` rather than `invalid_request_error`.
    public static func classify(status: Int, errorCode: String?, message: String?, retryAfterMilliseconds: Int64?) -> ProviderFailure {
        let detail = message.map { "provider said: \($0)" } ?? "HTTP \(status) from the provider"
        func final(_ code: String, _ text: String) -> ProviderFailure {
            ProviderFailure(code: code, message: text, isRetryable: false, httpStatus: status)
        }
        func retryable(_ code: String, _ text: String) -> ProviderFailure {
            ProviderFailure(code: code, message: text, isRetryable: true, retryAfterMilliseconds: retryAfterMilliseconds, httpStatus: status)
        }
        switch (status, errorCode) {
        // gpt-image models say moderation_blocked, DALL-E content_policy_violation, Azure contentFilter:
        // one final code for all.
        case (_, "content_policy_violation"), (_, "moderation_blocked"), (_, "contentFilter"):
            return final("content_policy_violation", "the provider's safety system rejected the prompt; \(detail)")
        case (_, "model_not_found"), (404, _):
            return final("model_not_found", "the provider does not offer this model (unknown or retired); update the models table; \(detail)")
        // Retryable: the key is set aside and another key, or this one once topped up, carries the task.
        case (429, "insufficient_quota"), (_, "billing_hard_limit_reached"):
            return retryable("provider_quota_exceeded", "the provider account is out of credit; \(detail)")
        case (429, let code?) where code.hasSuffix("spend_limit_exceeded"):
            return retryable("provider_quota_exceeded", "the provider account reached its spend limit; \(detail)")
        case (429, _):
            return retryable("rate_limited", "the provider is rate limiting requests; \(detail)")
        case (401, _):
            return final("provider_auth_failed", "the provider rejected the API key; \(detail)")
        case (403, _):
            return final("provider_forbidden", "the provider refused access (region or permission); \(detail)")
        case (408, _), (409, _), (500..., _):
            return retryable("provider_unavailable", "the provider failed (HTTP \(status)); \(detail)")
        default:
            return final("invalid_request", "the provider rejected the request (HTTP \(status)); \(detail)")
        }
    }
}
