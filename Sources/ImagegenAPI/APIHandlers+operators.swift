import Foundation
import ImagegenCore
import ImagegenQueue
import ImagegenStore

/// The operator routes under `/admin`, for admin keys only: the queue and its problems, the
/// dead-letter list with retry and cancel, and spend per user. What `imagegen admin` prints
/// on a terminal, for the console's operator view.
extension APIHandlers {
    func getQueueOverview(_ input: Operations.GetQueueOverview.Input) async throws -> Operations.GetQueueOverview.Output {
        _ = try AuthenticatedUser.requiredAdmin()
        async let stats = queue.stats()
        async let unfinished = admin.unfinishedCounts(queue: queue.name)
        async let problems = admin.problemCounts(queue: queue.name)
        let gate = try await operators.gate.status()
        let current = try await stats
        return .ok(.init(body: .json(.init(
            queue: queue.name,
            ready: current.ready,
            delayed: current.delayed,
            inFlight: current.inflight,
            expiredLeases: current.expiredLeases,
            oldestReadySeconds: current.oldestReadyMilliseconds.map { Int($0 / 1000) },
            unfinished: try await unfinished.map { count in
                .init(status: .init(rawValue: count.status.rawValue)!, count: count.count, oldestAgeSeconds: Int(count.oldestAgeSeconds))
            },
            history: operators.history.recent.map { sample in
                .init(at: sample.at, ready: sample.stats.ready, delayed: sample.stats.delayed, inFlight: sample.stats.inflight)
            },
            problems: try await problems.map { problem in
                .init(status: problem.status == .retrying ? .retrying : .failed, code: problem.code, count: problem.count)
            },
            provider: .init(
                breaker: .init(rawValue: gate.breaker.rawValue)!,
                openSeconds: Int((gate.openMilliseconds + 999) / 1000),
                timesOpened: gate.timesOpened,
                failures: gate.failures,
                keys: gate.keys.map { key in
                    .init(
                        id: key.id, imagesInBucket: key.tokens, asideSeconds: Int((key.asideMilliseconds + 999) / 1000),
                        asideReason: key.asideReason
                    )
                }
            )
        ))))
    }

    func listAdminTasks(_ input: Operations.ListAdminTasks.Input) async throws -> Operations.ListAdminTasks.Output {
        _ = try AuthenticatedUser.requiredAdmin()
        let status = input.query.status.map { TaskStatus(rawValue: $0.rawValue)! }
        let tasks = try await admin.list(status: status, queue: queue.name, limit: input.query.limit ?? 50)
        return .ok(.init(body: .json(.init(tasks: tasks.map(Components.Schemas.AdminTask.init)))))
    }

    /// Puts a failed task back with a fresh set of attempts. Redis gets it at once when it is
    /// this API's queue; otherwise (or when Redis refuses) the workers' reconciler enqueues it.
    func retryFailedTask(_ input: Operations.RetryFailedTask.Input) async throws -> Operations.RetryFailedTask.Output {
        _ = try AuthenticatedUser.requiredAdmin()
        let taskID = try Self.taskID(input.path.id)
        guard let requeued = try await admin.requeueFailed(taskID: taskID, extraAttempts: backoff.maxAttempts) else {
            guard try await admin.summary(taskID: taskID) != nil else { throw APIError.taskNotFound }
            throw APIError(.conflict, code: "task_not_failed", message: "the task has not failed; only failed tasks can be retried")
        }
        if requeued.queue == queue.name {
            let entry = QueueEntry(
                taskID: taskID, attempt: requeued.attempts, backoff: backoff, runAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000),
                images: requeued.images
            )
            do {
                try await queue.enqueue(entry)
            } catch {
                logger.warning("enqueue of a retried task failed; the reconciler will enqueue it", metadata: ["task_id": "\(taskID)", "error": "\(error)"])
            }
        }
        logger.notice("failed task retried by an operator", metadata: ["task_id": "\(taskID.uuidString.lowercased())"])
        return .ok(.init(body: .json(try await adminTask(taskID))))
    }

    func cancelAnyTask(_ input: Operations.CancelAnyTask.Input) async throws -> Operations.CancelAnyTask.Output {
        _ = try AuthenticatedUser.requiredAdmin()
        let taskID = try Self.taskID(input.path.id)
        try await cancel(taskID, userID: nil)
        return .ok(.init(body: .json(try await adminTask(taskID))))
    }

    func getCostReport(_ input: Operations.GetCostReport.Input) async throws -> Operations.GetCostReport.Output {
        _ = try AuthenticatedUser.requiredAdmin()
        let periods = spend.policy.periods(at: Date())
        let from = input.query.from ?? periods.month, to = input.query.to ?? periods.day
        for (name, day) in [("from", from), ("to", to)] where CalendarDay.date(day) == nil {
            throw APIError(.badRequest, code: "invalid_parameter", message: "\(name) must be a day as YYYY-MM-DD", field: name)
        }
        guard from <= to else {
            throw APIError(.badRequest, code: "invalid_parameter", message: "from must not be after to", field: "from")
        }
        let report = try await CostReport.load(from: from, to: to, groupBy: .user, policy: spend.policy, database: operators.database)
        let total = report.total
        return .ok(.init(body: .json(.init(
            from: from, to: to, timeZone: spend.policy.timeZone.identifier,
            totalUsd: total.spend.usd, totalMicroUsd: Int(total.spend.value),
            users: report.rows.map { row in
                .init(
                    userId: row.key, name: row.name, tasks: row.tasks, images: row.images, spendUsd: row.spend.usd,
                    spendMicroUsd: Int(row.spend.value), failedTasks: row.failedTasks, unsettledUsd: row.unsettled.usd,
                    unsettledMicroUsd: Int(row.unsettled.value)
                )
            }
        ))))
    }

    /// A task of any user as the operator routes show it.
    private func adminTask(_ taskID: UUID) async throws -> Components.Schemas.AdminTask {
        guard let summary = try await admin.summary(taskID: taskID) else { throw APIError.taskNotFound }
        return Components.Schemas.AdminTask(summary)
    }
}

extension Components.Schemas.AdminTask {
    init(_ summary: TaskSummary) {
        self.init(
            taskId: summary.taskID.uuidString.lowercased(), user: summary.userName,
            status: Components.Schemas.TaskStatus(rawValue: summary.status.rawValue)!, model: summary.model, attempts: summary.attempts,
            updatedAt: Components.Schemas.Task.date(summary.updatedAt),
            error: summary.error.map { .init(code: $0.code, message: $0.message) }
        )
    }
}
