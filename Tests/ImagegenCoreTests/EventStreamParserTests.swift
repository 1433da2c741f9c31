import ImagegenProvider
import Testing

@Suite("Server-Sent Events read from a provider's stream, whatever pieces the bytes arrive in")
struct EventStreamParserTests {
    private let stream = "event: image_generation.partial_image\r\ndata: {\"a\": 1}\r\n\r\n: a comment\n"
        + "event: image_generation.completed\ndata: line one\ndata: line two\nid: 7\n\n"

    private let expected = [
        StreamedEvent(name: "image_generation.partial_image", data: #"{"a": 1}"#),
        StreamedEvent(name: "image_generation.completed", data: "line one\nline two"),
    ]

    @Test("at once, a byte at a time, and split at every position: the same events")
    func piecesDoNotMatter() {
        let bytes = Array(stream.utf8)
        var whole = EventStreamParser()
        #expect(whole.feed(bytes) == expected)
        var single = EventStreamParser()
        #expect(bytes.flatMap { single.feed([$0]) } == expected)
        for cut in 0...bytes.count {
            var parser = EventStreamParser()
            #expect(parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...]) == expected, "cut at \(cut)")
        }
    }

    @Test("an event not yet ended by a blank line is held back")
    func unfinishedEventWaits() {
        var parser = EventStreamParser()
        #expect(parser.feed(Array("event: x\ndata: 1\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)) == [StreamedEvent(name: "x", data: "1")])
    }
}
