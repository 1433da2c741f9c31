/// The rows a statement returned, copied out of libpq's result.
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let rows: [[[UInt8]?]]
    /// Rows an INSERT, UPDATE or DELETE touched.
    public let affectedRows: Int

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    public subscript(row: Int) -> PostgresRow {
        PostgresRow(columns: columns, values: rows[row])
    }

    public var first: PostgresRow? { rows.isEmpty ? nil : self[0] }

    public func map<T>(_ transform: (PostgresRow) throws -> T) rethrows -> [T] {
        try rows.indices.map { try transform(self[$0]) }
    }
}

/// One row; values are read by column name.
public struct PostgresRow: Sendable {
    let columns: [String]
    let values: [[UInt8]?]

    private func raw(_ column: String) throws -> [UInt8]? {
        guard let index = columns.firstIndex(of: column) else {
            throw PostgresError(.decoding, "no column \(column) in the result")
        }
        return values[index]
    }

    public func optionalString(_ column: String) throws -> String? {
        try raw(column).map { String(decoding: $0, as: UTF8.self) }
    }

    public func string(_ column: String) throws -> String {
        guard let value = try optionalString(column) else {
            throw PostgresError(.decoding, "column \(column) is null")
        }
        return value
    }

    public func optionalInt(_ column: String) throws -> Int64? {
        guard let text = try optionalString(column) else { return nil }
        guard let value = Int64(text) else { throw PostgresError(.decoding, "column \(column) is not an integer") }
        return value
    }

    public func int(_ column: String) throws -> Int64 {
        guard let value = try optionalInt(column) else { throw PostgresError(.decoding, "column \(column) is null") }
        return value
    }

    public func bool(_ column: String) throws -> Bool {
        try string(column) == "t"
    }

    /// The raw bytes of a column from a binary-format result (bytea).
    public func optionalBytes(_ column: String) throws -> [UInt8]? {
        try raw(column)
    }
}
