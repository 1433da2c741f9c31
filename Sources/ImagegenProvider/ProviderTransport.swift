import CurlClient
import Foundation
import ImagegenCore

/// What every provider client shares: its keys, held by fingerprint so that only this type
/// sees a secret, and one request over libcurl whose transport failures become `ProviderFailure`s
/// the same way for every provider.
struct ProviderTransport: Sendable {
    private let client: CurlMultiClient
    /// Secrets by fingerprint.
    private let secrets: [String: String]
    let keyIDs: [String]
    let timeoutMilliseconds: Int
    let maxResponseBytes: Int
    let longestRetryAfterMilliseconds: Int64

    /// - Parameter apiKeys: one or more keys for the same endpoint; duplicates count once.
    init(client: CurlMultiClient, apiKeys: [String], timeoutMilliseconds: Int, maxResponseBytes: Int, longestRetryAfterMilliseconds: Int64) {
        precondition(!apiKeys.isEmpty, "the provider needs at least one key")
        self.client = client
        var secrets: [String: String] = [:]
        var keyIDs: [String] = []
        for key in apiKeys where secrets.updateValue(key, forKey: SHA256.fingerprint(key)) == nil {
            keyIDs.append(SHA256.fingerprint(key))
        }
        self.secrets = secrets
        self.keyIDs = keyIDs
        self.timeoutMilliseconds = timeoutMilliseconds
        self.maxResponseBytes = maxResponseBytes
        self.longestRetryAfterMilliseconds = longestRetryAfterMilliseconds
    }

    func secret(_ keyID: String) throws(ProviderFailure) -> String {
        guard let secret = secrets[keyID] else {
            throw ProviderFailure(code: "invalid_request", message: "no provider key with id \(keyID)", isRetryable: false)
        }
        return secret
    }

    /// Sends one request and returns the answer, whatever its status.
    /// - Parameter onBody: told each piece of the answer's body as it arrives (`CurlRequest.onBody`).
    func send(
        _ method: String, _ url: String, headers: [(String, String)], body: [UInt8] = [], onBody: (@Sendable ([UInt8]) -> Void)? = nil
    ) async throws(ProviderFailure) -> CurlResponse {
        do {
            return try await client.send(CurlRequest(
                method: method, url: url, headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds,
                maxResponseBytes: maxResponseBytes, onBody: onBody
            ))
        } catch let error as CurlError {
            switch error.kind {
            case .timeout:
                throw ProviderFailure(
                    code: "provider_timeout", message: "no answer from the provider within \(timeoutMilliseconds) ms", isRetryable: true,
                    providerMayHaveBilled: error.requestSent
                )
            case .connect:
                throw ProviderFailure(code: "provider_unreachable", message: "cannot connect to the provider: \(error.message)", isRetryable: true)
            case .tooLarge:
                // Final: the same request would bring the same answer, and the provider has billed it.
                throw ProviderFailure(
                    code: "response_too_large", message: "the provider's answer was larger than \(maxResponseBytes) bytes", isRetryable: false,
                    providerMayHaveBilled: true
                )
            case .transfer:
                throw ProviderFailure(
                    code: "provider_connection_error", message: "the connection to the provider failed: \(error.message)",
                    isRetryable: true, providerMayHaveBilled: error.requestSent
                )
            }
        } catch is CancellationError {
            throw ProviderFailure.abandoned
        } catch {
            throw ProviderFailure(code: "provider_connection_error", message: "\(error)", isRetryable: true)
        }
    }
}
