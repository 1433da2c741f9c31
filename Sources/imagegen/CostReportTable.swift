import ImagegenStore

/// Lines a cost report up as a fixed-width table for a terminal.
struct CostReportTable {
    let report: CostReport

    init(_ report: CostReport) {
        self.report = report
    }

    func render() -> String {
        let header = ["USER ID", "NAME", "TASKS", "IMAGES", "SPEND USD"]
        var rows = report.rows.map {
            [$0.userID.uuidString.lowercased(), $0.userName, String($0.tasks), String($0.images), $0.spend.usd]
        }
        rows.append([
            "TOTAL", "", String(report.rows.reduce(0) { $0 + $1.tasks }), String(report.rows.reduce(0) { $0 + $1.images }),
            report.total.usd,
        ])
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        let numeric: Set<Int> = [2, 3, 4]
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return numeric.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ")
        }
        let title = "Spend from \(report.from) to \(report.to) (UTC days, both included)"
        return ([title, line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
