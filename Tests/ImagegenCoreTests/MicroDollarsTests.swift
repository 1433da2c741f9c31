import ImagegenCore
import Testing

@Suite("Money is exact")
struct MicroDollarsTests {
    @Test("USD text parses to micro-dollars digit by digit", arguments: [
        ("0.04", 40_000), ("12", 12_000_000), ("0.000001", 1), ("1.5", 1_500_000), (".25", 250_000), ("0.1", 100_000),
    ] as [(String, Int64)])
    func parses(_ text: String, _ expected: Int64) {
        #expect(MicroDollars(usd: text) == MicroDollars(expected))
    }

    @Test("anything else is refused", arguments: ["", "-1", "1.0000001", "abc", "1e3", "1.2.3", ".", " 1", "0x10"])
    func refuses(_ text: String) {
        #expect(MicroDollars(usd: text) == nil)
    }

    @Test("amounts print with six places and survive a round trip")
    func formats() {
        #expect(MicroDollars(40_000).usd == "0.040000")
        #expect(MicroDollars(250_000).usd == "0.250000")
        #expect(MicroDollars(12_000_001).usd == "12.000001")
        #expect(MicroDollars(usd: MicroDollars(987_654_321).usd) == MicroDollars(987_654_321))
        // Ten cents added a thousand times is exactly a hundred dollars.
        #expect((0..<1000).reduce(MicroDollars.zero) { sum, _ in sum + MicroDollars(usd: "0.1")! } == MicroDollars(usd: "100"))
    }
}
