import ImagegenProvider
import Testing

@Suite("Provider answers are classified as final or retryable")
struct ProviderFailureClassificationTests {
    @Test(arguments: [
        (400, "content_policy_violation", "content_policy_violation", false),
        (400, nil, "invalid_request", false),
        (401, "invalid_api_key", "provider_auth_failed", false),
        (403, nil, "provider_forbidden", false),
        (404, "model_not_found", "model_not_found", false),
        (429, "rate_limit_exceeded", "rate_limited", true),
        (429, "insufficient_quota", "provider_quota_exceeded", true),
        (429, "monthly_spend_limit_exceeded", "provider_quota_exceeded", true),
        (500, "server_error", "provider_unavailable", true),
        (502, nil, "provider_unavailable", true),
        (503, "server_is_overloaded", "provider_unavailable", true),
    ] as [(Int, String?, String, Bool)])
    func classify(_ status: Int, _ errorCode: String?, _ code: String, _ retryable: Bool) {
        let failure = ProviderFailure.classify(status: status, errorCode: errorCode, message: "m", retryAfterMilliseconds: 1_000)
        #expect(failure.code == code)
        #expect(failure.isRetryable == retryable)
        #expect(failure.retryAfterMilliseconds == (retryable ? 1_000 : nil))
    }
}
