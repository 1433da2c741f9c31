import ImagegenCore
import Testing

@Suite("StrictJSON: duplicate keys and trailing commas")
struct StrictJSONTests {
    @Test("finds a key given twice in one object, however it is spelled or nested", arguments: [
        (#"{"prompt": "a", "prompt": "b"}"#, "prompt"),
        (#"{"prompt": "a", "\u0070rompt": "b"}"#, "prompt"),
        (#"{"a": {"x": 1, "y": {"z": [1, {"q": 1, "q": 2}]}}}"#, "q"),
        (#"{"n": 1, "m": "n", "n": 2}"#, "n"),
    ])
    func duplicate(json: String, key: String) {
        #expect(StrictJSON.violation(in: Array(json.utf8)) == .duplicateKey(key))
    }

    @Test("keys repeated in different objects, as values, or escaped quotes are not duplicates", arguments: [
        #"{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}"#,
        #"{"prompt": "prompt", "model": "\"prompt\""}"#,
        #"{"k\"": 1, "k": 2}"#,
        #"[{"a": 1}, {"a": 1}]"#,
    ])
    func unique(json: String) {
        #expect(StrictJSON.violation(in: Array(json.utf8)) == nil)
    }

    @Test("a trailing comma in an object or array is found; one inside a string is not", arguments: [
        (#"{"prompt": "p",}"#, true), (#"{"a": [1, 2 ,  ]}"#, true), (#"{"a": ",}"}"#, false), (#"[1,2]"#, false),
    ])
    func trailingComma(json: String, found: Bool) {
        #expect((StrictJSON.violation(in: Array(json.utf8)) == .trailingComma) == found)
    }
}
