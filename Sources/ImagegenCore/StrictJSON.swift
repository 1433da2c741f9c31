import Foundation

/// What Foundation's JSON decoder accepts but RFC 8259 does not: a key given twice in one
/// object (the decoder silently keeps one) and a trailing comma.
///
/// A body such as `{"prompt": "a", "prompt": "b"}` means different things to different
/// parsers (a proxy may check the first value, we would use the last), so it is refused.
public enum StrictJSON {
    public enum Violation: Sendable, Equatable {
        case duplicateKey(String)
        case trailingComma
    }

    /// The first violation in `json`, which the decoder has already accepted; nil when there is none.
    public static func violation(in json: [UInt8]) -> Violation? {
        var objects: [Set<String>?] = []
        var expectingKey = false
        var index = 0
        while index < json.count {
            switch json[index] {
            case UInt8(ascii: "{"):
                objects.append([])
                expectingKey = true
            case UInt8(ascii: "["):
                objects.append(nil)
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = objects.popLast()
                expectingKey = false
            case UInt8(ascii: ","):
                if let next = json[(index + 1)...].first(where: { !isWhitespace($0) }), next == UInt8(ascii: "}") || next == UInt8(ascii: "]") {
                    return .trailingComma
                }
                expectingKey = objects.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < json.count, json[index] != UInt8(ascii: "\"") {
                    index += json[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if expectingKey, !objects.isEmpty, objects[objects.count - 1] != nil {
                    let raw = json[start...min(index, json.count - 1)]
                    // Decoded, so that "a" and "\u0061" count as the same key.
                    let key = (try? JSONDecoder().decode(String.self, from: Data(raw))) ?? String(decoding: raw, as: UTF8.self)
                    if objects[objects.count - 1]!.insert(key).inserted == false { return .duplicateKey(key) }
                    expectingKey = false
                }
            default:
                break
            }
            index += 1
        }
        return nil
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
    }
}
