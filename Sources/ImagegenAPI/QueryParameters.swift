import Hummingbird

/// A request's query string, read strictly: a parameter given twice or out of range is a 400 naming it.
struct QueryParameters {
    private let parameters: Parameters

    init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    func value(_ name: String) throws -> String? {
        let values = parameters.getAll(name)
        guard values.count <= 1 else {
            throw APIError(.badRequest, code: "invalid_parameter", message: "\(name) is given more than once", field: name)
        }
        return values.first
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw APIError(
                .badRequest, code: "invalid_parameter",
                message: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)", field: name
            )
        }
        return number
    }
}
