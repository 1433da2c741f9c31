import Foundation
import HTTPTypes
import Hummingbird
import ImagegenCore
import ImagegenQueue
import ImagegenStore

/// `POST /images/generate` and `POST /images/estimate`: what a request costs and, for
/// generate, the task that makes it.
struct ImageRoutes: Sendable {
    let tasks: TaskStore
    let spend: SpendStore
    let queue: TaskQueue
    let catalog: CatalogCache
    let backoff: BackoffPolicy
    let taskDeadline: Duration
    /// Paces each user's submissions; nil when SUBMIT_RATE_PER_MINUTE is 0.
    let rateLimiter: SubmissionRateLimiter?

    func register(in table: inout RouteTable) {
        let submit: RouteTable.Handler = { request, context in try await self.submit(request, context: context) }
        if let rateLimiter {
            table.add(.post, "images/generate", middleware: SubmissionRateLimitMiddleware(limiter: rateLimiter), submit)
        } else {
            table.add(.post, "images/generate", submit)
        }
        table.add(.post, "images/estimate") { request, context in try await estimate(request, context: context) }
    }

    /// Longest accepted Idempotency-Key, as in Stripe's API.
    static let maxIdempotencyKeyLength = 255

    private func submit(_ request: Request, context: APIRequestContext) async throws -> Response {
        let userID = try context.userID()
        let (imageRequest, price) = try await priced(request)
        let idempotencyKey = try request.headers[Self.idempotencyKeyField].map { key in
            guard (1...Self.maxIdempotencyKeyLength).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
                throw APIError(
                    .badRequest, code: "invalid_idempotency_key",
                    message: "Idempotency-Key must be 1 to \(Self.maxIdempotencyKeyLength) visible ASCII characters"
                )
            }
            return IdempotencyKey(key: key, requestDigest: imageRequest.digest)
        }
        if let idempotencyKey, let earlier = try await tasks.earlierSubmission(userID: userID, idempotencyKey: idempotencyKey) {
            return try respond(to: earlier)
        }
        if let refusal = try await limitRefusal(userID: userID, cost: price.reservation(for: imageRequest), images: imageRequest.n) {
            throw refusal
        }
        let submission = try await tasks.create(
            userID: userID, request: imageRequest, unitPrice: price.unit, maxAttempts: backoff.maxAttempts, queue: queue.name,
            idempotencyKey: idempotencyKey, deadline: taskDeadline
        )
        guard case .created(let taskID) = submission else { return try respond(to: submission) }
        let entry = QueueEntry(
            taskID: taskID, attempt: 0, backoff: backoff, runAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000),
            images: imageRequest.n
        )
        do {
            try await queue.enqueue(entry)
        } catch {
            // The row is committed, so the task is safe: the workers' reconciler enqueues it once Redis is back.
            context.logger.warning(
                "enqueue failed; the reconciler will enqueue the task", metadata: ["task_id": "\(taskID)", "error": "\(error)"]
            )
        }
        context.logger.info("task queued", metadata: ["task_id": "\(taskID.uuidString.lowercased())", "model": "\(imageRequest.model)"])
        return try accepted(taskID, status: .queued)
    }

    /// The price of a request and whether the caller's limits let it through now; nothing is enqueued or reserved.
    private func estimate(_ request: Request, context: APIRequestContext) async throws -> Response {
        let userID = try context.userID()
        let (imageRequest, price) = try await priced(request)
        let cost = price.reservation(for: imageRequest)
        let refusal = try await limitRefusal(userID: userID, cost: cost, images: imageRequest.n)
        return try JSONResponse.make(status: .ok, body: EstimateBody(request: imageRequest, cost: cost, refusal: refusal))
    }

    /// The validated request in the body and its price, or the 4xx that says what is wrong.
    private func priced(_ request: Request) async throws -> (ImageRequest, TaskPrice) {
        try Self.requireJSON(request)
        let body = try await request.body.collect(upTo: APIServer.maxBodyBytes)
        let bytes = Array(buffer: body)
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw APIError(.badRequest, code: "invalid_json", message: "the request body is not valid JSON")
        }
        switch StrictJSON.violation(in: bytes) {
        case .duplicateKey(let key):
            throw APIError(.badRequest, code: "duplicate_key", message: "the key \(key) appears twice in one object", field: key)
        case .trailingComma:
            throw APIError(.badRequest, code: "invalid_json", message: "the request body is not valid JSON: a comma is followed by } or ]")
        case nil:
            break
        }
        let catalog = try await catalog.catalog()
        let imageRequest: ImageRequest
        do {
            imageRequest = try ImageRequestValidator(catalog: catalog).validate(json)
        } catch {
            throw APIError(error)
        }
        guard let price = catalog.price(of: imageRequest) else {
            throw APIError(
                .unprocessableContent, code: "price_unavailable",
                message: "no price is configured for \(imageRequest.model) at \(imageRequest.size) \(imageRequest.quality)",
                field: "size"
            )
        }
        return (imageRequest, price)
    }

    /// The answer to a submission an idempotency key already stands for.
    private func respond(to earlier: Submission) throws -> Response {
        switch earlier {
        case .created(let id):
            return try accepted(id, status: .queued)
        case .replayed(let id, let status):
            return try accepted(id, status: status, headers: [Self.replayedField: "true"])
        case .keyReused(let id):
            throw APIError(
                .conflict, code: "idempotency_key_reused",
                message: "this Idempotency-Key was used with a different request (task \(id.uuidString.lowercased())); use a new key"
            )
        }
    }

    /// Why a task of this cost cannot fit the caller's limits now, or nil when it fits. A
    /// spend limit answers 402: paying more, not waiting a moment, is what it takes. An
    /// image limit answers 429 with `Retry-After`, because the hour or day it counts does
    /// end. The worker's reservation stays the authority.
    private func limitRefusal(userID: UUID, cost: MicroDollars, images: Int) async throws -> APIError? {
        let usage = try await spend.usage(userID: userID)
        guard let limit = usage.refusingLimit(cost: cost, images: images) else { return nil }
        switch limit {
        case .dailySpend, .monthlySpend:
            let period = limit == .dailySpend ? usage.day : usage.month
            let resets = period.resetsAt.formatted(Date.ISO8601FormatStyle())
            return APIError(
                .init(code: 402, reasonPhrase: "Payment Required"), code: limit.errorCode,
                message: "this request costs \(cost) and would pass your \(limit.name) of \(period.limit!)",
                details: [
                    "limit_usd": period.limit!.usd, "spent_usd": period.spent.usd, "reserved_usd": period.reserved.usd,
                    "cost_usd": cost.usd, "resets_at": resets,
                ]
            )
        case .hourlyImages, .dailyImages:
            let period = limit == .hourlyImages ? usage.hourImages : usage.dayImages
            let resets = period.resetsAt.formatted(Date.ISO8601FormatStyle())
            return APIError(
                .tooManyRequests, code: limit.errorCode,
                message: "this request's \(images) image(s) would pass your \(limit.name) of \(period.limit!)",
                details: [
                    "limit_images": String(period.limit!), "used_images": String(period.used), "requested_images": String(images),
                    "resets_at": resets,
                ],
                headers: [.retryAfter: String(max(1, Int(period.resetsAt.timeIntervalSinceNow.rounded(.up))))]
            )
        }
    }

    /// A body declared as anything but JSON is refused; one declared as nothing is read as JSON.
    private static func requireJSON(_ request: Request) throws {
        guard let declared = request.headers[.contentType] else { return }
        let mediaType = declared.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard mediaType == "application/json" else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                message: "the body must be JSON sent as Content-Type: application/json, not \(declared)"
            )
        }
    }

    private func accepted(_ taskID: UUID, status: TaskStatus, headers: HTTPFields = [:]) throws -> Response {
        let id = taskID.uuidString.lowercased()
        let statusURL = "/images/tasks/\(id)/status"
        var fields = headers
        fields[.location] = statusURL
        if !status.isTerminal { fields[.retryAfter] = String(TaskRoutes.pollAfterSeconds) }
        return try JSONResponse.make(
            status: .accepted, body: ["task_id": id, "status": status.rawValue, "status_url": statusURL], headers: fields
        )
    }

    private static let idempotencyKeyField = HTTPField.Name("Idempotency-Key")!
    private static let replayedField = HTTPField.Name("Idempotent-Replayed")!
}
