import ImagegenStore

/// Lines a cost report up as a fixed-width table for a terminal.
struct CostReportTable {
    let report: CostReport

    init(_ report: CostReport) {
        self.report = report
    }

    func render() -> String {
        var rows = report.rows.map {
            [$0.userID.uuidString.lowercased(), $0.userName, String($0.tasks), String($0.images), $0.spend.usd]
        }
        rows.append([
            "TOTAL", "", String(report.rows.reduce(0) { $0 + $1.tasks }), String(report.rows.reduce(0) { $0 + $1.images }),
            report.total.usd,
        ])
        let table = TextTable(header: ["USER ID", "NAME", "TASKS", "IMAGES", "SPEND USD"], rows: rows, numericColumns: [2, 3, 4])
        return "Spend from \(report.from) to \(report.to) (UTC days, both included)\n" + table.render()
    }
}
