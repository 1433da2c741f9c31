import Foundation
import Hummingbird
import ImagegenCore
import ImagegenQueue
import ImagegenStore

/// `POST /images/generate` and `GET /images/tasks/<id>/status`.
struct ImageRoutes: Sendable {
    let users: UserStore
    let tasks: TaskStore
    let queue: TaskQueue
    let catalog: CatalogCache
    let backoff: BackoffPolicy

    func register(on router: Router<BasicRequestContext>) {
        router.post("images/generate") { request, context in try await submit(request, context: context) }
        router.get("images/tasks/:id/status") { request, context in try await status(request, context: context) }
    }

    private func submit(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let userID = try await authenticate(request)
        let body = try await request.body.collect(upTo: APIServer.maxBodyBytes)
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))
        } catch {
            throw APIError(.badRequest, code: "invalid_json", message: "the request body is not valid JSON")
        }
        let catalog = try await catalog.catalog()
        let imageRequest: ImageRequest
        do {
            imageRequest = try ImageRequestValidator(catalog: catalog).validate(json)
        } catch {
            throw APIError(error)
        }
        guard let unitPrice = catalog.unitPrice(of: imageRequest) else {
            throw APIError(
                .unprocessableContent, code: "price_unavailable",
                message: "no price is configured for \(imageRequest.model) at \(imageRequest.size) \(imageRequest.quality)",
                field: "size"
            )
        }
        let taskID = try await tasks.create(
            userID: userID, request: imageRequest, unitPrice: unitPrice, maxAttempts: backoff.maxAttempts
        )
        let entry = QueueEntry(
            taskID: taskID, attempt: 0, backoff: backoff, runAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000)
        )
        do {
            try await queue.enqueue(entry)
        } catch {
            context.logger.error("enqueue failed; failing the task", metadata: ["task_id": "\(taskID)", "error": "\(error)"])
            try? await tasks.failUnqueued(taskID: taskID, error: TaskError(code: "queue_unavailable", message: "the task could not be queued"))
            throw APIError(.serviceUnavailable, code: "queue_unavailable", message: "the task queue is unavailable; try again shortly")
        }
        let id = taskID.uuidString.lowercased()
        let statusURL = "/images/tasks/\(id)/status"
        context.logger.info("task queued", metadata: ["task_id": "\(id)", "model": "\(imageRequest.model)"])
        return try JSONResponse.make(
            status: .accepted,
            body: ["task_id": id, "status": TaskStatus.queued.rawValue, "status_url": statusURL],
            headers: [.location: statusURL]
        )
    }

    private func status(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let userID = try await authenticate(request)
        guard let text = context.parameters.get("id"), let taskID = UUID(uuidString: text) else {
            throw APIError.taskNotFound
        }
        guard let snapshot = try await tasks.snapshot(taskID: taskID, userID: userID) else {
            throw APIError.taskNotFound
        }
        return try JSONResponse.make(status: .ok, body: TaskStatusBody(snapshot))
    }

    private func authenticate(_ request: Request) async throws -> UUID {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError.unauthorized
        }
        let secret = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let userID = try await users.authenticate(secret: secret) else { throw APIError.unauthorized }
        return userID
    }
}
