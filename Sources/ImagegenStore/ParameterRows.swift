import PostgresClient
import ImagegenCore

/// Rows of parameters sent as one `VALUES` list, so that a batch is one statement whatever its size.
struct ParameterRows {
    /// The SQL type of each column; every placeholder is cast, so NULLs and text arrive typed.
    let types: [String]
    private(set) var parameters: [PostgresValue] = []

    init(types: [String]) {
        self.types = types
    }

    mutating func append(_ row: [PostgresValue]) {
        precondition(row.count == types.count, "a row needs one value per column")
        parameters += row
    }

    /// The `VALUES` list of each of `lists` as they follow each other in one statement, and the
    /// statement's parameters in that order.
    static func layout(_ lists: [ParameterRows]) -> (values: [String], parameters: [PostgresValue]) {
        var offset = 0
        var values: [String] = []
        for list in lists {
            values.append(list.values(after: offset))
            offset += list.parameters.count
        }
        return (values, lists.flatMap(\.parameters))
    }

    /// `VALUES ($1::uuid, $2::int), ($3::uuid, $4::int)` from placeholder `offset + 1` on; with no
    /// rows, one row of typed NULLs that a join on its key drops, so the statement keeps its shape.
    private func values(after offset: Int) -> String {
        let rowCount = max(parameters.count / types.count, 1)
        let rows = (0..<rowCount).map { row in
            "(" + types.enumerated().map { column, type in
                parameters.isEmpty ? "NULL::\(type)" : "$\(offset + row * types.count + column + 1)::\(type)"
            }.joined(separator: ", ") + ")"
        }
        return "VALUES " + rows.joined(separator: ", ")
    }
}

extension [TaskStatus] {
    /// `'queued', 'retrying'`: statuses from the lifecycle's rules written into SQL, so that a
    /// partial index on the same list still applies. Our own enum's values, never input.
    var sqlList: String { map { "'\($0.rawValue)'" }.joined(separator: ", ") }
}
