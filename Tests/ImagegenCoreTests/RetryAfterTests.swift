import Foundation
import ImagegenProvider
import Testing

@Suite("Retry-After is read with bounds, whatever a provider or proxy sends")
struct RetryAfterTests {
    private let longest: Int64 = 600_000

    @Test("seconds, fractions, milliseconds and HTTP dates are read; longer asks are cut to the longest", arguments: [
        (["retry-after": "5"], 5_000),
        (["retry-after": " 0.25 "], 250),
        (["retry-after": "0"], 0),
        (["retry-after-ms": "1500", "retry-after": "9"], 1_500),
        (["retry-after": "86400"], 600_000),
        (["retry-after": "1e19"], 600_000),
        (["retry-after": "1e308"], 600_000),
        (["retry-after-ms": "9223372036854775807999"], 600_000),
        (["retry-after": "Sun, 29 Nov 2026 12:00:30 GMT"], 30_000),
        (["retry-after": "Sun, 29 Nov 2026 11:00:00 GMT"], 0),
    ] as [([String: String], Int64)])
    func readable(_ headers: [String: String], _ expected: Int64) {
        let now = Date(timeIntervalSince1970: 1_795_953_600) // 2026-11-29 12:00:00 UTC
        #expect(RetryAfter.milliseconds(in: headers, longest: longest, now: now) == expected)
    }

    @Test("infinite, not-a-number, negative and unreadable values are treated as absent", arguments: [
        "inf", "-inf", "Infinity", "nan", "-1", "-0.5", "soon", "", "12abc", "0x",
    ])
    func unreadable(_ value: String) {
        #expect(RetryAfter.milliseconds(in: ["retry-after": value], longest: longest) == nil)
        #expect(RetryAfter.milliseconds(in: ["retry-after-ms": value], longest: longest) == nil)
    }
}
