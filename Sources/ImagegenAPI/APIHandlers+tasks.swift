import Foundation
import ImagegenCore
import HTTPTypes
import ImagegenStore
import OpenAPIRuntime

/// The caller's tasks, newest first, and one task's image; who the caller is and what they spent.
extension APIHandlers {
    func listTasks(_ input: Operations.ListTasks.Input) async throws -> Operations.ListTasks.Output {
        let userID = try AuthenticatedUser.required()
        let status = input.query.status.map { TaskStatus(rawValue: $0.rawValue)! }
        let limit = input.query.limit ?? Self.defaultPageSize
        let after = try input.query.cursor.map { text in
            guard let position = TaskListCursor.decode(text) else {
                throw APIError(.badRequest, code: "invalid_cursor", message: "cursor is not one this API returned", field: "cursor")
            }
            return position
        }
        let page = try await tasks.list(userID: userID, status: status, after: after, limit: limit)
        return .ok(.init(body: .json(TaskListBody(
            tasks: page.tasks.map { Components.Schemas.Task($0) },
            next_cursor: Nullable(page.nextPage.map(TaskListCursor.encode))
        ))))
    }

    /// One image as itself, for an `<img>` tag or a download: it never changes, so it may be cached for good.
    func getTaskImage(_ input: Operations.GetTaskImage.Input) async throws -> Operations.GetTaskImage.Output {
        let userID = try AuthenticatedUser.required()
        let taskID = try Self.taskID(input.path.id)
        let position = input.path.position
        switch try await tasks.image(taskID: taskID, userID: userID, position: position) {
        case .noTask:
            throw APIError.taskNotFound
        case .notReady:
            throw APIError(.conflict, code: "images_not_ready", message: "the task has not succeeded, so it has no images yet")
        case .noImage:
            throw APIError(.notFound, code: "image_not_found", message: "the task has no image \(position)", field: "position")
        case .purged:
            throw APIError(.gone, code: "images_purged", message: "the task's images were deleted at the end of their retention period")
        case .found(let image):
            let tag = "\"\(taskID.uuidString.lowercased())-\(position)\""
            let cacheControl = "private, max-age=31536000, immutable"
            RawResponse.add([.eTag: tag, .cacheControl: cacheControl])
            if input.headers.ifNoneMatch?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag }) == true {
                return .notModified(.init())
            }
            let headers = Operations.GetTaskImage.Output.Ok.Headers(contentLength: image.bytes.count)
            let bytes = HTTPBody(image.bytes)
            switch image.mediaType {
            case "image/png": return .ok(.init(headers: headers, body: .png(bytes)))
            case "image/jpeg": return .ok(.init(headers: headers, body: .jpeg(bytes)))
            case "image/webp": return .ok(.init(headers: headers, body: .imageWebp(bytes)))
            default:
                // A media type the document does not list yet: the image still goes out as what it is.
                RawResponse.send(.ok, headers: [.contentType: image.mediaType, .contentLength: String(image.bytes.count)], body: bytes)
                return .undocumented(statusCode: 200, .init())
            }
        }
    }

    /// `GET /me`: the key's user and whether the key is an admin key, so that a client shows
    /// the operator view only to those the server lets in.
    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let userID = try AuthenticatedUser.required()
        guard let user = try await users.find(userID.uuidString) else { throw APIError.unauthorized }
        return .ok(.init(body: .json(.init(userId: userID.uuidString.lowercased(), name: user.name, admin: AuthenticatedUser.isAdmin))))
    }

    /// `GET /me/usage`: the caller's limits, spend and reservations today and this month, and
    /// images this hour and today.
    func getUsage(_ input: Operations.GetUsage.Input) async throws -> Operations.GetUsage.Output {
        let usage = try await spend.usage(userID: try AuthenticatedUser.required())
        return .ok(.init(body: .json(Components.Schemas.Usage(usage, policy: spend.policy))))
    }

    /// `GET /me/usage/days`: spent and reserved per day, for the console's chart.
    func getDailySpend(_ input: Operations.GetDailySpend.Input) async throws -> Operations.GetDailySpend.Output {
        let days = try await spend.dailySpend(userID: try AuthenticatedUser.required(), days: input.query.days ?? 30)
        return .ok(.init(body: .json(.init(
            timeZone: spend.policy.timeZone.identifier,
            days: days.map { day in
                .init(
                    day: day.day, spentUsd: day.spent.usd, spentMicroUsd: Int(day.spent.value), reservedUsd: day.reserved.usd,
                    reservedMicroUsd: Int(day.reserved.value)
                )
            }
        ))))
    }
}
