import CurlClient
import Foundation
import ImagegenCore

/// Replicate's official image models over libcurl: `POST {base}/models/{owner}/{name}/predictions`
/// with `Prefer: wait`, then `GET urls.get` until the prediction ends. `baseURL` is e.g.
/// `https://api.replicate.com/v1`; the model is named `owner/name`.
///
/// A prediction that is still `starting` or `processing` when the wait ends is polled, each
/// state reported as progress. Its outputs are file URLs that expire within the hour, so their
/// bytes are copied before the call returns. A worker that abandons the call cancels the
/// prediction, so that Replicate stops running (and billing) it. Official models are billed
/// per output image: the charge is the model's price per image times the outputs received.
public struct ReplicateImagesProvider: ImageProvider {
    private let transport: ProviderTransport
    private let base: String
    /// The pause between two polls of an unfinished prediction.
    private let pollInterval: Duration
    public var keyIDs: [String] { transport.keyIDs }

    public init(
        client: CurlMultiClient, baseURL: String, apiKeys: [String], timeoutMilliseconds: Int, maxResponseBytes: Int = 64 << 20,
        longestRetryAfterMilliseconds: Int64 = 600_000, pollInterval: Duration = .milliseconds(500)
    ) {
        transport = ProviderTransport(
            client: client, apiKeys: apiKeys, timeoutMilliseconds: timeoutMilliseconds, maxResponseBytes: maxResponseBytes,
            longestRetryAfterMilliseconds: longestRetryAfterMilliseconds
        )
        base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.pollInterval = pollInterval
    }

    public func generate(
        _ request: ImageRequest, acceptsResponseFormat: Bool, keyID: String, progress: @escaping @Sendable (ProviderProgress) async -> Void
    ) async throws(ProviderFailure) -> Generation {
        let headers = [("Authorization", "Bearer \(try transport.secret(keyID))"), ("Content-Type", "application/json")]
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(PredictionRequest(request)))
        } catch {
            throw ProviderFailure(code: "invalid_request", message: "cannot encode the request: \(error)", isRetryable: false)
        }
        let created = try await transport.send(
            "POST", "\(base)/models/\(request.model)/predictions", headers: headers + [("Prefer", "wait=60")], body: body
        )
        guard created.status == 200 || created.status == 201 else { throw failure(of: created) }
        var prediction = try Self.prediction(in: created.body)
        let deadline = ContinuousClock.now + .milliseconds(transport.timeoutMilliseconds)
        var reported: String?
        while !prediction.hasEnded {
            if reported != prediction.status {
                reported = prediction.status
                await progress(.status(prediction.status))
            }
            guard let poll = prediction.urls?.get else {
                throw ProviderFailure(
                    code: "malformed_response", message: "an unfinished prediction has no urls.get to poll", isRetryable: true,
                    providerMayHaveBilled: true
                )
            }
            do {
                guard ContinuousClock.now < deadline else {
                    throw ProviderFailure(
                        code: "provider_timeout", message: "the prediction did not end within \(transport.timeoutMilliseconds) ms",
                        isRetryable: true, providerMayHaveBilled: true
                    )
                }
                try await Task.sleep(for: pollInterval)
                let answer = try await transport.send("GET", poll, headers: headers)
                guard answer.status == 200 else { throw failure(of: answer) }
                prediction = try Self.prediction(in: answer.body)
            } catch {
                // Abandoned or timed out: stop the prediction, so that it is neither run nor billed further.
                await cancel(prediction, headers: headers)
                throw (error as? ProviderFailure) ?? .abandoned
            }
        }
        return try await outcome(of: prediction)
    }

    /// What an ended prediction gives: its outputs' bytes, or why it made none.
    private func outcome(of prediction: Prediction) async throws(ProviderFailure) -> Generation {
        switch prediction.status {
        case "succeeded":
            let urls = prediction.output?.urls ?? []
            guard !urls.isEmpty else {
                throw ProviderFailure(
                    code: "malformed_response", message: "the prediction succeeded without an output", isRetryable: true,
                    providerMayHaveBilled: true
                )
            }
            var images: [GeneratedImage] = []
            for url in urls {
                // Output files need no key, and expire: fetched now, while the attempt holds them.
                let file = try await transport.send("GET", url, headers: [])
                guard file.status == 200 else {
                    throw ProviderFailure(
                        code: "provider_unavailable", message: "cannot fetch output \(images.count) (HTTP \(file.status))", isRetryable: true,
                        httpStatus: file.status, providerMayHaveBilled: true
                    )
                }
                images.append(try GeneratedImage(bytes: file.body, index: images.count))
            }
            return Generation(images: images, usage: nil)
        case "failed":
            let reason = prediction.error ?? "no reason given"
            // Official models' safety checker fails the prediction with an NSFW message.
            if reason.localizedCaseInsensitiveContains("nsfw") || reason.localizedCaseInsensitiveContains("safety") {
                throw ProviderFailure(
                    code: "content_policy_violation", message: "the provider's safety system rejected the prompt; provider said: \(reason)",
                    isRetryable: false
                )
            }
            throw ProviderFailure(code: "provider_unavailable", message: "the prediction failed; provider said: \(reason)", isRetryable: true)
        default:
            throw ProviderFailure(
                code: "provider_unavailable", message: "the prediction ended as \(prediction.status) before making an image", isRetryable: true
            )
        }
    }

    /// Asks Replicate to stop a prediction; a cancel that fails leaves it to end on its own.
    /// Sent from a task of its own: the call being abandoned is itself canceled.
    private func cancel(_ prediction: Prediction, headers: [(String, String)]) async {
        guard let url = prediction.urls?.cancel else { return }
        let transport = self.transport
        await Task { _ = try? await transport.send("POST", url, headers: headers) }.value
    }

    private func failure(of response: CurlResponse) -> ProviderFailure {
        let detail = (try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body)))?.detail
        return ProviderFailure.classify(
            status: response.status, errorCode: nil, message: detail,
            retryAfterMilliseconds: RetryAfter.milliseconds(in: response.headers, longest: transport.longestRetryAfterMilliseconds)
        )
    }

    static func prediction(in body: [UInt8]) throws(ProviderFailure) -> Prediction {
        guard let prediction = try? JSONDecoder().decode(Prediction.self, from: Data(body)) else {
            throw ProviderFailure(
                code: "malformed_response", message: "the provider's answer is not a Replicate prediction", isRetryable: true,
                providerMayHaveBilled: true
            )
        }
        return prediction
    }
}

/// A prediction as Replicate reports it.
struct Prediction: Decodable {
    struct URLs: Decodable {
        let get: String?
        let cancel: String?
    }

    /// A model's output: a list of file URLs, or one.
    enum Output: Decodable {
        case files([String])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let list = try? container.decode([String].self) {
                self = .files(list)
            } else if let one = try? container.decode(String.self) {
                self = .files([one])
            } else {
                self = .other
            }
        }

        var urls: [String] {
            if case .files(let urls) = self { urls } else { [] }
        }
    }

    let id: String?
    let status: String
    let output: Output?
    let error: String?
    let urls: URLs?

    /// `succeeded`, `failed`, `canceled` and `aborted` are final; `starting` and `processing` are not.
    var hasEnded: Bool { !["starting", "processing"].contains(status) }
}

private struct PredictionRequest: Encodable {
    struct Input: Encodable {
        let prompt: String
        let numOutputs: Int
        let aspectRatio: String
        let outputFormat: String

        enum CodingKeys: String, CodingKey {
            case prompt
            case numOutputs = "num_outputs"
            case aspectRatio = "aspect_ratio"
            case outputFormat = "output_format"
        }
    }

    let input: Input

    init(_ request: ImageRequest) {
        let format = switch request.options?.outputFormat {
        case "jpeg": "jpg"
        case "webp": "webp"
        default: "png"
        }
        input = Input(prompt: request.prompt, numOutputs: request.n, aspectRatio: Self.aspectRatio(of: request.size), outputFormat: format)
    }

    /// `1024x576` as `16:9`: Replicate's models take a ratio, not pixels.
    static func aspectRatio(of size: String) -> String {
        let sides = size.split(separator: "x").compactMap { Int($0) }
        guard sides.count == 2, sides[0] > 0, sides[1] > 0 else { return "1:1" }
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let divisor = gcd(sides[0], sides[1])
        return "\(sides[0] / divisor):\(sides[1] / divisor)"
    }
}

private struct ErrorBody: Decodable {
    let detail: String?
}
