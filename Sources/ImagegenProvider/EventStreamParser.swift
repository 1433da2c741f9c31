/// One Server-Sent Event: its `event:` name (nil when it gave none) and its `data:` lines joined by newlines.
public struct StreamedEvent: Sendable, Equatable {
    public let name: String?
    public let data: String

    public init(name: String?, data: String) {
        self.name = name
        self.data = data
    }
}

/// Reads Server-Sent Events from bytes that arrive in pieces of any size: an event ends at a
/// blank line, lines end at LF or CRLF, comments (`:`) and unknown fields are skipped.
public struct EventStreamParser: Sendable {
    private var line: [UInt8] = []
    private var name: String?
    private var data: [String] = []

    public init() {}

    /// The events the bytes complete, in order; a partial event waits for the next bytes.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [StreamedEvent] {
        var events: [StreamedEvent] = []
        for byte in bytes {
            guard byte == UInt8(ascii: "\n") else {
                line.append(byte)
                continue
            }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.isEmpty {
                if !data.isEmpty || name != nil { events.append(StreamedEvent(name: name, data: data.joined(separator: "\n"))) }
                name = nil
                data = []
            } else {
                let text = String(decoding: line, as: UTF8.self)
                let (field, value) = Self.split(text)
                switch field {
                case "event": name = value
                case "data": data.append(value)
                default: break
                }
            }
            line.removeAll(keepingCapacity: true)
        }
        return events
    }

    /// `field: value` (one space after the colon dropped); a line without a colon is a field with no value.
    private static func split(_ line: String) -> (String, String) {
        guard let colon = line.firstIndex(of: ":") else { return (line, "") }
        var value = line[line.index(after: colon)...]
        if value.first == " " { value = value.dropFirst() }
        return (String(line[..<colon]), String(value))
    }
}
