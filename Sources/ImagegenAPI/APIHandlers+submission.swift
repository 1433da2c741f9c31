import Foundation
import HTTPTypes
import ImagegenCore
import ImagegenQueue
import ImagegenStore
import OpenAPIRuntime

/// `POST /images/generate` and `POST /images/estimate`: what a request costs and, for
/// generate, the task that makes it.
extension APIHandlers {
    func generateImages(_ input: Operations.GenerateImages.Input) async throws -> Operations.GenerateImages.Output {
        let userID = try AuthenticatedUser.required()
        let body = switch input.body { case .json(let body): body }
        let (imageRequest, price, catalog) = try await priced(body)
        let idempotencyKey = try input.headers.idempotencyKey.map { key in
            guard (1...Self.maxIdempotencyKeyLength).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
                throw APIError(
                    .badRequest, code: "invalid_idempotency_key",
                    message: "Idempotency-Key must be 1 to \(Self.maxIdempotencyKeyLength) visible ASCII characters"
                )
            }
            return IdempotencyKey(key: key, requestDigest: imageRequest.digest)
        }
        if let idempotencyKey, let earlier = try await tasks.earlierSubmission(userID: userID, idempotencyKey: idempotencyKey) {
            return try accepted(earlier)
        }
        let cost = price.reservation(for: imageRequest), images = imageRequest.n, spend = self.spend
        // The limits are checked on the connection that then inserts the task, in one call; with
        // no default limit, a user without limits of their own is not checked at all.
        let submission = try await tasks.create(
            userID: userID, request: imageRequest, unitPrice: price.unit,
            routes: catalog.routes(for: imageRequest, price: price, fallback: true), maxAttempts: backoff.maxAttempts,
            queue: queue.name, idempotencyKey: idempotencyKey, deadline: taskDeadline,
            admit: { connection in
                if let refusal = Self.limitRefusal(try spend.usage(userID: userID, on: connection), cost: cost, images: images) {
                    throw refusal
                }
            },
            admitOnlyUsersWithLimits: spend.policy.defaults == UserLimits()
        )
        guard case .created(let taskID, let routes) = submission else { return try accepted(submission) }
        let entry = QueueEntry(
            taskID: taskID, attempt: 0, backoff: backoff, runAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000),
            images: imageRequest.n, providers: routes.map(\.provider)
        )
        feeder.feed(entry)
        logger.info("task queued", metadata: ["task_id": "\(taskID.uuidString.lowercased())", "model": "\(imageRequest.model)"])
        return try accepted(submission)
    }

    /// The price of a request and whether the caller's limits let it through now; nothing is enqueued or reserved.
    func estimateImages(_ input: Operations.EstimateImages.Input) async throws -> Operations.EstimateImages.Output {
        let userID = try AuthenticatedUser.required()
        let body = switch input.body { case .json(let body): body }
        let (imageRequest, price, _) = try await priced(body)
        let cost = price.reservation(for: imageRequest)
        let refusal = Self.limitRefusal(try await spend.usage(userID: userID), cost: cost, images: imageRequest.n)
        return .ok(.init(body: .json(EstimateBody(request: imageRequest, cost: cost, refusal: refusal))))
    }

    /// The validated request, its price and the catalog that priced it, or the 422 that names
    /// the wrong field. The body is known to be strict JSON by now (`JSONBodyMiddleware`).
    private func priced(_ submitted: SubmittedImageRequest) async throws -> (ImageRequest, TaskPrice, ModelCatalog) {
        let catalog = try await catalog.catalog()
        let imageRequest: ImageRequest
        do {
            imageRequest = try ImageRequestValidator(catalog: catalog).validate(submitted.json)
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
        return (imageRequest, price, catalog)
    }

    /// The 202 for a submission: a new task, a replay of the one an idempotency key stands
    /// for, or 409 when the key was used for a different request.
    private func accepted(_ submission: Submission) throws -> Operations.GenerateImages.Output {
        let (taskID, status, replayed): (UUID, TaskStatus, Bool)
        switch submission {
        case .created(let id, _):
            (taskID, status, replayed) = (id, .queued, false)
        case .replayed(let id, let earlierStatus):
            (taskID, status, replayed) = (id, earlierStatus, true)
        case .keyReused(let id):
            throw APIError(
                .conflict, code: "idempotency_key_reused",
                message: "this Idempotency-Key was used with a different request (task \(id.uuidString.lowercased())); use a new key"
            )
        }
        let id = taskID.uuidString.lowercased()
        let statusURL = "/images/tasks/\(id)/status"
        RawResponse.add([.location: statusURL])
        return .accepted(.init(
            headers: .init(retryAfter: status.isTerminal ? nil : Self.pollAfterSeconds, idempotentReplayed: replayed ? ._true : nil),
            body: .json(.init(taskId: id, status: Components.Schemas.TaskStatus(rawValue: status.rawValue)!, statusUrl: statusURL))
        ))
    }

    /// Why a task of this cost cannot fit the caller's `usage` now, or nil when it fits. A
    /// spend limit answers 402: paying more, not waiting a moment, is what it takes. An
    /// image limit answers 429 with `Retry-After`, because the hour or day it counts does
    /// end. The worker's reservation stays the authority.
    private static func limitRefusal(_ usage: SpendUsage, cost: MicroDollars, images: Int) -> APIError? {
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
}
