import Foundation
import ImagegenCore
import ImagegenStore

/// How `admin cost-report` prints: a table for people, CSV and JSON for programs.
enum CostReportFormat: String, CaseIterable {
    case table, csv, json

    static let csvHeader = ["group", "name", "tasks", "images", "spend_usd", "spend_micro_usd", "failed_tasks", "unsettled_usd", "unsettled_micro_usd"]

    func render(_ report: CostReport) throws -> String {
        switch self {
        case .table: renderTable(report)
        case .csv: renderCSV(report)
        case .json: try renderJSON(report)
        }
    }

    private func cells(_ row: CostReport.Row) -> [String] {
        [row.key, row.name, String(row.tasks), String(row.images), row.spend.usd, String(row.spend.value), String(row.failedTasks),
         row.unsettled.usd, String(row.unsettled.value)]
    }

    private func renderTable(_ report: CostReport) -> String {
        let rows = (report.rows + [report.total]).map { row in
            [row.key, row.name, String(row.tasks), String(row.images), row.spend.usd, String(row.failedTasks), row.unsettled.usd]
        }
        let header = [report.grouping.rawValue.uppercased(), "NAME", "TASKS", "IMAGES", "SPEND USD", "FAILED", "UNSETTLED USD"]
        var lines = [
            "Spend from \(report.from) to \(report.to) (\(report.timeZone) days, both included), by \(report.grouping.rawValue)",
            TextTable(header: header, rows: rows, numericColumns: [2, 3, 4, 5, 6]).render(),
        ]
        if !report.limitUse.isEmpty {
            func limit(_ value: MicroDollars?) -> String { value?.usd ?? "none" }
            let limitRows = report.limitUse.map { use in
                [use.userID.uuidString.lowercased(), use.name, limit(use.dailyLimit), use.peakDay.usd, limit(use.monthlyLimit), use.peakMonth.usd]
            }
            lines += [
                "", "Use of limits (peak committed: spent + reserved + unsettled)",
                TextTable(
                    header: ["USER ID", "NAME", "DAILY LIMIT", "PEAK DAY", "MONTHLY LIMIT", "PEAK MONTH"], rows: limitRows,
                    numericColumns: [2, 3, 4, 5]
                ).render(),
            ]
        }
        return lines.joined(separator: "\n")
    }

    private func renderCSV(_ report: CostReport) -> String {
        func field(_ text: String) -> String {
            text.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        return ([Self.csvHeader] + report.rows.map(cells)).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n")
    }

    private struct JSONReport: Encodable {
        struct Row: Encodable {
            let group: String, name: String, tasks: Int, images: Int, spend_usd: String, spend_micro_usd: Int64, failed_tasks: Int
            let unsettled_usd: String, unsettled_micro_usd: Int64

            init(_ row: CostReport.Row) {
                group = row.key; name = row.name; tasks = row.tasks; images = row.images; spend_usd = row.spend.usd
                spend_micro_usd = row.spend.value; failed_tasks = row.failedTasks; unsettled_usd = row.unsettled.usd
                unsettled_micro_usd = row.unsettled.value
            }
        }

        struct Limit: Encodable {
            let user_id: String, name: String, daily_limit_usd: String?, peak_day_usd: String, monthly_limit_usd: String?
            let peak_month_usd: String
        }

        let from: String, to: String, time_zone: String, group_by: String, rows: [Row], total: Row, limits: [Limit]
    }

    private func renderJSON(_ report: CostReport) throws -> String {
        let body = JSONReport(
            from: report.from, to: report.to, time_zone: report.timeZone, group_by: report.grouping.rawValue,
            rows: report.rows.map(JSONReport.Row.init), total: JSONReport.Row(report.total),
            limits: report.limitUse.map {
                JSONReport.Limit(
                    user_id: $0.userID.uuidString.lowercased(), name: $0.name, daily_limit_usd: $0.dailyLimit?.usd,
                    peak_day_usd: $0.peakDay.usd, monthly_limit_usd: $0.monthlyLimit?.usd, peak_month_usd: $0.peakMonth.usd
                )
            }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(body), as: UTF8.self)
    }
}
