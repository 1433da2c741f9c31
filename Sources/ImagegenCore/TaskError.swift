import Foundation

/// Why a task failed or is retrying, as shown to its owner.
public struct TaskError: Sendable, Equatable {
    public let code: String
    public let message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The task could not start before its deadline; nothing was charged for it.
    public static let expired = TaskError(
        code: "expired", message: "the task could not start before its deadline (the provider kept refusing or was unavailable); nothing was charged"
    )
}
