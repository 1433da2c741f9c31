import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// One prediction the mock holds, advanced a state per poll.
struct MockPrediction {
    let prompt: String
    let outputs: Int
    let format: String
    var status: String
    /// Set when the prompt's fault fails the prediction (a safety refusal).
    let failure: String?
    /// Whether the prediction waits for `POST /_mock/release` before it ends.
    let held: Bool
    /// For a `[mock:queued]` prediction, the releases made before it was created; nil otherwise.
    let releasesBefore: Int?
}

/// Replicate's predictions API: `POST /v1/models/{owner}/{name}/predictions` with a bearer
/// token, `GET /v1/predictions/{id}` to poll, `POST /v1/predictions/{id}/cancel`, and output
/// files under `/_mock/replicate/files/{id}/{index}` as Replicate serves them from its CDN.
///
/// A prediction ends during the `Prefer: wait` unless its prompt asks otherwise: `[mock:queued]`
/// answers `starting` and moves on a state at each later `POST /_mock/release` (`processing`,
/// then `succeeded`); `[mock:hold]` stays `processing` until released. A safety refusal is a `failed` prediction
/// with an NSFW error; 429 and 5xx faults refuse the creation as Replicate does. `GET
/// /_mock/stats` counts canceled predictions as `replicate_canceled`.
extension MockProviderServer {
    func addReplicateRoutes(to router: Router<BasicRequestContext>) {
        router.post("v1/models/{owner}/{name}/predictions") { request, context in
            try await self.createPrediction(request, model: "\(context.parameters.get("owner") ?? "")/\(context.parameters.get("name") ?? "")")
        }
        router.get("v1/predictions/{id}") { request, context in
            self.poll(request, id: context.parameters.get("id") ?? "")
        }
        router.post("v1/predictions/{id}/cancel") { request, context in
            self.cancelPrediction(request, id: context.parameters.get("id") ?? "")
        }
        router.get("_mock/replicate/files/{id}/{index}") { _, context in
            self.outputFile(id: context.parameters.get("id") ?? "", index: context.parameters.get("index") ?? "")
        }
    }

    private func replicateError(_ status: Int, _ detail: String) -> Response {
        raw(status, String(decoding: (try? JSONSerialization.data(withJSONObject: ["detail": detail, "status": status])) ?? Data(), as: UTF8.self))
    }

    /// The request's bearer token when the mock accepts it; without one Replicate answers 401.
    private func token(of request: Request) -> String? {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), header.count > "Bearer ".count, apiKey == nil || header == "Bearer \(apiKey!)",
              !plan.rejectedKeys.contains(String(header.dropFirst("Bearer ".count))) else { return nil }
        return String(header.dropFirst("Bearer ".count))
    }

    private func createPrediction(_ request: Request, model: String) async throws -> Response {
        guard let key = token(of: request) else { return replicateError(401, "Invalid token.") }
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              let input = json["input"] as? [String: Any], let prompt = input["prompt"] as? String else {
            return replicateError(422, "input.prompt is required")
        }
        let outputs = input["num_outputs"] as? Int ?? 1
        guard (1...4).contains(outputs) else { return replicateError(422, "input.num_outputs: must be from 1 to 4") }
        let format = input["output_format"] as? String ?? "webp"
        guard ["webp", "jpg", "png"].contains(format) else { return replicateError(422, "input.output_format: must be webp, jpg or png") }
        let (fault, delay) = decide(prompt: prompt)
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        record(fault?.rawValue ?? "ok", prompt: prompt, served: fault?.isBilled ?? true)
        count("requests", key: key)
        switch fault {
        case .rateLimited, .quota:
            var response = replicateError(429, "Request was throttled. Expected available in \(plan.retryAfterSeconds) second.")
            response.headers[.retryAfter] = String(plan.retryAfterSeconds)
            return response
        case .serverError:
            return replicateError(500, "Internal server error")
        case .overloaded:
            return replicateError(503, "Service unavailable")
        default:
            break
        }
        let refused = fault == .contentPolicy || fault == .moderationBlocked
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(26)
        let prediction = MockPrediction(
            prompt: prompt, outputs: outputs, format: format,
            status: refused ? "failed" : fault == .queued ? "starting" : fault == .hold ? "processing" : "succeeded",
            failure: refused ? "NSFW content detected. Try running it again, or try a different prompt." : nil, held: fault == .hold,
            releasesBefore: fault == .queued ? state.withLock { $0.releases } : nil
        )
        state.withLock { $0.predictions[String(id)] = prediction }
        if !refused { count("images", key: key, by: outputs) }
        return predictionAnswer(String(id), prediction, model: model, host: request.head.authority, status: 201)
    }

    private func poll(_ request: Request, id: String) -> Response {
        guard token(of: request) != nil else { return replicateError(401, "Invalid token.") }
        let advanced = state.withLock { state -> MockPrediction? in
            guard var prediction = state.predictions[id] else { return nil }
            let releasesSince = prediction.releasesBefore.map { state.releases - $0 } ?? 2
            switch prediction.status {
            case "starting" where releasesSince >= 1: prediction.status = "processing"
            case "processing" where (!prediction.held || state.released) && releasesSince >= 2: prediction.status = "succeeded"
            default: break
            }
            state.predictions[id] = prediction
            return prediction
        }
        guard let advanced else { return replicateError(404, "Not found.") }
        return predictionAnswer(id, advanced, model: nil, host: request.head.authority, status: 200)
    }

    private func cancelPrediction(_ request: Request, id: String) -> Response {
        guard token(of: request) != nil else { return replicateError(401, "Invalid token.") }
        let canceled = state.withLock { state -> MockPrediction? in
            guard var prediction = state.predictions[id] else { return nil }
            if ["starting", "processing"].contains(prediction.status) {
                prediction.status = "canceled"
                state.outcomes["replicate_canceled", default: 0] += 1
            }
            state.predictions[id] = prediction
            return prediction
        }
        guard let canceled else { return replicateError(404, "Not found.") }
        return predictionAnswer(id, canceled, model: nil, host: request.head.authority, status: 200)
    }

    private func predictionAnswer(_ id: String, _ prediction: MockPrediction, model: String?, host: String?, status: Int) -> Response {
        let base = "http://\(host ?? "127.0.0.1")"
        var body: [String: Any] = [
            "id": id, "status": prediction.status, "input": ["prompt": prediction.prompt],
            "error": prediction.status == "failed" ? prediction.failure ?? "failed" : NSNull(),
            "urls": ["get": "\(base)/v1/predictions/\(id)", "cancel": "\(base)/v1/predictions/\(id)/cancel"],
        ]
        if let model { body["model"] = model }
        if prediction.status == "succeeded" {
            body["output"] = (0..<prediction.outputs).map { "\(base)/_mock/replicate/files/\(id)/\($0)" }
            body["metrics"] = ["predict_time": 0.6, "image_count": prediction.outputs]
        }
        return raw(status, String(decoding: (try? JSONSerialization.data(withJSONObject: body)) ?? Data(), as: UTF8.self))
    }

    /// An output file's bytes, as Replicate's CDN serves them: no key needed.
    private func outputFile(id: String, index: String) -> Response {
        guard let prediction = state.withLock({ $0.predictions[id] }), prediction.status == "succeeded",
              let position = Int(index), (0..<prediction.outputs).contains(position) else {
            return replicateError(404, "Not found.")
        }
        let format = prediction.format == "jpg" ? "jpeg" : prediction.format
        let bytes = Data(base64Encoded: encodedImage(size: "1024x1024", format: format), options: .ignoreUnknownCharacters) ?? Data()
        return Response(
            status: .ok, headers: [.contentType: "image/\(format)"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
