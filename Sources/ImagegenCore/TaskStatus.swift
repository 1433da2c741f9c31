/// Where a task is in its life. Terminal states never change again.
public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case queued
    case running
    case retrying
    case succeeded
    case failed
    case canceled

    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .canceled: true
        case .queued, .running, .retrying: false
        }
    }
}
