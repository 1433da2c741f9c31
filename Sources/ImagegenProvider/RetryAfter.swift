import Foundation

/// How long a provider asks us to wait before calling again, read with bounds: a proxy or a
/// misbehaving provider can put anything in these headers (`inf`, `1e19`, a date in 2999), and
/// none of it may crash a worker or pause a key for ever.
public enum RetryAfter {
    /// OpenAI's `retry-after-ms`, else `Retry-After` as seconds or as an HTTP date, cut to
    /// `longest`; nil when absent, negative or unreadable (the gate's default pause applies then).
    public static func milliseconds(in headers: [String: String], longest: Int64, now: Date = Date()) -> Int64? {
        func bounded(_ value: Double?, scale: Double) -> Int64? {
            guard let value, value.isFinite, value >= 0 else { return nil }
            // Compared as a Double first: converting an out-of-range Double to Int64 traps.
            return Int64(min((value * scale).rounded(.up), Double(longest)))
        }
        if let text = headers["retry-after-ms"], let value = bounded(Double(text.trimmingCharacters(in: .whitespaces)), scale: 1) {
            return value
        }
        guard let text = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let value = bounded(Double(text), scale: 1_000) { return value }
        if let date = httpDate.date(from: text) {
            return bounded(max(date.timeIntervalSince(now), 0), scale: 1_000)
        }
        return nil
    }

    /// RFC 9110's IMF-fixdate, e.g. `Wed, 21 Oct 2015 07:28:00 GMT`.
    nonisolated(unsafe) private static let httpDate: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter
    }()
}
