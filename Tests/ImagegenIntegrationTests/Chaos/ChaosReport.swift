import Foundation
import ImagegenStore
import PostgresClient

/// What became of every task of a chaos run, according to PostgreSQL and the mock
/// provider's call counts, as one table.
struct ChaosReport {
    let settings: ChaosRun.Settings
    let submitted: Int
    let succeeded: Int
    let failedByReason: [(code: String, tasks: Int)]
    let canceled: Int
    /// Accepted with a 202 but absent from PostgreSQL.
    let lost: Int
    /// Not finished when the drain period ended.
    let stuck: Int
    let chargedMoreThanOnce: Int
    /// Succeeded tasks without exactly one correct charge, or charges on unsucceeded tasks.
    let chargeMismatches: Int
    /// Number of provider calls -> tasks that got that many.
    let callsPerTask: [Int: Int]
    /// Number of images the provider served (and billed) for one task -> succeeded tasks.
    let paidPerSucceededTask: [Int: Int]
    /// Per fault: how long it lasted, and how long after it the next task succeeded.
    let recoveries: [(fault: String, downSeconds: Double, seconds: Double?)]
    let loadSeconds: Double
    let drainSeconds: Double

    static func prompt(runID: String, index: Int) -> String { "chaos \(runID) task \(index)" }

    static func load(
        database: Database, accepted: [String], faults: [ChaosRun.Fault], calls: [String: (calls: Int, served: Int)],
        runID: String, settings: ChaosRun.Settings, loadSeconds: Double, drainSeconds: Double
    ) async throws -> ChaosReport {
        let list = "{" + accepted.joined(separator: ",") + "}"
        let (tasks, doubles, mismatches) = try await database.run { connection in
            (
                try connection.query("SELECT id, status, error_code, prompt FROM tasks WHERE id = ANY($1::uuid[])", [.text(list)]),
                try connection.query("SELECT count(*) AS n FROM (SELECT task_id FROM charges GROUP BY task_id HAVING count(*) > 1) d"),
                try connection.query(
                    """
                    SELECT count(*) AS n FROM tasks t LEFT JOIN charges c ON c.task_id = t.id
                    WHERE t.status <> 'canceled' AND ((t.status = 'succeeded') <> (c.task_id IS NOT NULL)
                       OR c.amount_micro_usd <> t.unit_price_micro_usd * c.images)
                    """
                )
            )
        }
        var recoveries: [(String, Double, Double?)] = []
        for fault in faults {
            let seconds = try await database.run { connection in
                try connection.query(
                    """
                    SELECT extract(epoch FROM min(finished_at) - $1::timestamptz)::text AS seconds
                    FROM tasks WHERE status = 'succeeded' AND finished_at > $1::timestamptz
                    """,
                    [.text(fault.at.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))]
                ).first?.optionalString("seconds").flatMap(Double.init)
            }
            recoveries.append((fault.name, fault.at.timeIntervalSince(fault.started), seconds))
        }
        var succeeded = 0, canceled = 0, stuck = 0
        var failures: [String: Int] = [:]
        var callsPerTask: [Int: Int] = [:], paid: [Int: Int] = [:]
        for row in tasks.map({ $0 }) {
            let status = try row.string("status")
            let prompt = try row.string("prompt")
            callsPerTask[calls[prompt]?.calls ?? 0, default: 0] += 1
            switch status {
            case "succeeded":
                succeeded += 1
                paid[calls[prompt]?.served ?? 0, default: 0] += 1
            case "failed": failures[try row.optionalString("error_code") ?? "unknown", default: 0] += 1
            case "canceled": canceled += 1
            default: stuck += 1
            }
        }
        return ChaosReport(
            settings: settings, submitted: accepted.count, succeeded: succeeded,
            failedByReason: failures.sorted { $0.value > $1.value }.map { ($0.key, $0.value) }, canceled: canceled,
            lost: accepted.count - tasks.count, stuck: stuck,
            chargedMoreThanOnce: Int(try doubles.first?.int("n") ?? 0), chargeMismatches: Int(try mismatches.first?.int("n") ?? 0),
            callsPerTask: callsPerTask, paidPerSucceededTask: paid, recoveries: recoveries,
            loadSeconds: loadSeconds, drainSeconds: drainSeconds
        )
    }

    var failed: Int { failedByReason.reduce(0) { $0 + $1.tasks } }
    /// Provider responses that billed a task a second time because the first result was lost in a crash.
    var duplicatePaidCalls: Int { paidPerSucceededTask.reduce(0) { $0 + max($1.key - 1, 0) * $1.value } }

    func render() -> String {
        func distribution(_ counts: [Int: Int]) -> String {
            counts.keys.sorted().map { "\($0): \(counts[$0]!)" }.joined(separator: ", ")
        }
        let grouped = Dictionary(grouping: recoveries, by: \.fault)
        let recoveryLines = grouped.keys.sorted().map { fault -> [String] in
            let times = grouped[fault]!.compactMap(\.seconds)
            let down = grouped[fault]!.map(\.downSeconds).max() ?? 0
            let next = times.max().map { String(format: "next success ≤ %.2f s after", $0) } ?? "no success after it"
            return ["recovery: \(fault) ×\(grouped[fault]!.count)", String(format: "down ≤ %.2f s, ", down) + next]
        }
        var rows: [[String]] = [
            ["tasks submitted (202)", "\(submitted)"],
            ["succeeded", "\(succeeded)"],
            ["failed", "\(failed)" + (failedByReason.isEmpty ? "" : " (" + failedByReason.map { "\($0.code) \($0.tasks)" }.joined(separator: ", ") + ")")],
            ["canceled", "\(canceled)"],
            ["lost (must be 0)", "\(lost)"],
            ["stuck unfinished after drain (must be 0)", "\(stuck)"],
            ["charged more than once (must be 0)", "\(chargedMoreThanOnce)"],
            ["charge mismatches (must be 0)", "\(chargeMismatches)"],
            ["provider calls per task (calls: tasks)", distribution(callsPerTask)],
            ["provider calls per task, max", "\(callsPerTask.keys.max() ?? 0)"],
            ["images billed per succeeded task (n: tasks)", distribution(paidPerSucceededTask)],
            ["duplicate billed calls (result lost in a crash)", String(format: "%d (%.2f%% of succeeded)", duplicatePaidCalls, succeeded == 0 ? 0 : 100 * Double(duplicatePaidCalls) / Double(succeeded))],
        ]
        rows += recoveryLines
        rows.append(["load / drain time", String(format: "%.1f s / %.1f s", loadSeconds, drainSeconds)])
        let width = rows.map(\.[0].count).max() ?? 0
        let title = "Chaos run: \(settings.tasks) tasks over \(settings.loadSeconds) s, \(settings.workers) workers × \(settings.concurrency)"
        return ([title] + rows.map { $0[0].padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0[1] }).joined(separator: "\n")
    }
}
