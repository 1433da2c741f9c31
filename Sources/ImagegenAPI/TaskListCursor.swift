import Foundation
import ImagegenStore

/// The opaque `cursor` of a task list: where the previous page ended, as base64url text.
enum TaskListCursor {
    static func encode(_ position: TaskPagePosition) -> String {
        Data("\(position.createdMicroseconds)_\(position.taskID.uuidString.lowercased())".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> TaskPagePosition? {
        guard text.count <= 128 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: "_")
        guard parts.count == 2, let micros = Int64(parts[0]), let taskID = UUID(uuidString: String(parts[1])) else { return nil }
        return TaskPagePosition(taskID: taskID, createdMicroseconds: micros)
    }
}
