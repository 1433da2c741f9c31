import ArgumentParser
import Foundation
import ImagegenCore
import ImagegenProviderGate
import ImagegenQueue
import ImagegenStore

struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks", abstract: "Inspect tasks and put failed ones back on the queue.", subcommands: [List.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the most recently changed tasks.")

        @Option(help: "Only tasks in this status: \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
        var status: String?

        @Option(help: "How many tasks to show, 1 to 10000.")
        var limit: Int = 50

        func validate() throws {
            if let status, TaskStatus(rawValue: status) == nil {
                throw ValidationError("--status must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", ")), got '\(status)'")
            }
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let tasks = try await TaskAdminStore(database: runtime.database).list(status: status.flatMap(TaskStatus.init), limit: limit)
            let rows = tasks.map { task in
                [
                    task.taskID.uuidString.lowercased(), task.userName, task.status.rawValue, task.model, String(task.attempts),
                    task.updatedAt, task.error.map { "\($0.code): \($0.message)" } ?? "",
                ]
            }
            print(TextTable(
                header: ["TASK ID", "USER", "STATUS", "MODEL", "ATTEMPTS", "UPDATED (UTC)", "LAST ERROR"], rows: rows, numericColumns: [4]
            ).render())
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry", abstract: "Put a failed task back on the queue with a fresh set of attempts."
        )

        @Argument(help: "The failed task's id.")
        var taskID: String

        func validate() throws {
            guard UUID(uuidString: taskID) != nil else { throw ValidationError("'\(taskID)' is not a task id (a UUID)") }
        }

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let id = UUID(uuidString: taskID)!
            let backoff = runtime.configuration.backoff
            guard let (attempts, queueName, images) = try await TaskAdminStore(database: runtime.database).requeueFailed(
                taskID: id, extraAttempts: backoff.maxAttempts
            ) else {
                throw StartupFailure(description: "task \(taskID.lowercased()) does not exist or has not failed; only failed tasks can be retried")
            }
            let queue = try await runtime.connectQueue(named: queueName)
            let entry = QueueEntry(taskID: id, attempt: attempts, backoff: backoff, runAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000), images: images)
            do {
                try await queue.enqueue(entry)
            } catch {
                print("task \(taskID.lowercased()) is queued in PostgreSQL; Redis refused it (\(error)), so the reconciler will enqueue it")
                return
            }
            print("task \(taskID.lowercased()) is queued again with \(backoff.maxAttempts) more attempts")
        }
    }
}

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queue", abstract: "Inspect the queue.", subcommands: [Stats.self])

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats",
            abstract: "Print queue depth, in-flight and retrying tasks, the oldest waiting age, and the provider's breaker and keys."
        )

        func run() async throws {
            let runtime = try await Runtime.start(label: "imagegen.admin")
            let queue = try await runtime.connectQueue()
            let stats = try await queue.stats()
            let counts = try await TaskAdminStore(database: runtime.database).unfinishedCounts(queue: queue.name)
            func count(_ status: TaskStatus) -> StatusCount? { counts.first { $0.status == status } }
            let rows: [[String]] = [
                ["ready (waiting for a worker)", String(stats.ready), stats.oldestReadyMilliseconds.map { "\($0 / 1000) s" } ?? "-"],
                ["delayed (waiting for a retry)", String(stats.delayed), "-"],
                ["in flight (leased)", String(stats.inflight), "-"],
                ["expired leases not yet reaped", String(stats.expiredLeases), "-"],
            ] + [TaskStatus.queued, .retrying, .running].map { status in
                ["\(status.rawValue) in PostgreSQL", String(count(status)?.count ?? 0), count(status).map { "\($0.oldestAgeSeconds) s" } ?? "-"]
            }
            print("Queue '\(queue.name)'")
            print(TextTable(header: ["", "TASKS", "OLDEST"], rows: rows, numericColumns: [1, 2]).render())
            let gate = try await runtime.providerGate(keyIDs: []).status()
            print("")
            print("Provider \(runtime.configuration.providers[0].name) at \(runtime.configuration.providers[0].baseURL)")
            let breaker = gate.breaker == .open ? "open for \(gate.openMilliseconds / 1000 + 1) s more" : gate.breaker.rawValue
            print("circuit breaker: \(breaker); opened \(gate.timesOpened) times; \(gate.failures) recent failures")
            let limit = runtime.configuration.gate.imagesPerMinute
            print("rate limit: " + (limit > 0 ? "\(limit) images per minute per key" : "none of our own (429s pause a key)"))
            if !gate.keys.isEmpty {
                print(TextTable(
                    header: ["KEY", "IMAGES IN BUCKET", "STATE"],
                    rows: gate.keys.map { key in
                        [
                            key.id, key.tokens.map(String.init) ?? "-",
                            key.asideMilliseconds > 0 ? "set aside (\(key.asideReason ?? "")) for \(key.asideMilliseconds / 1000 + 1) s" : "usable",
                        ]
                    },
                    numericColumns: [1]
                ).render())
            }
        }
    }
}
