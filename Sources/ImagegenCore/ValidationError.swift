/// Why a request was refused, naming the field at fault.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable machine-readable code, e.g. `invalid_value`.
    public let code: String
    /// The request field at fault, when there is one.
    public let field: String?
    public let message: String

    public init(code: String, field: String?, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { message }
}
