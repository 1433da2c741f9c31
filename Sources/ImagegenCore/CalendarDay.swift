import Foundation

/// A calendar day written `YYYY-MM-DD`, as operators and the API's date parameters give it.
public enum CalendarDay {
    /// The day's start in UTC, or nil when `text` is not a day that exists (`2026-02-30` is not).
    public static func date(_ text: String) -> Date? {
        guard text.utf8.count == 10, let date = try? Date("\(text)T00:00:00Z", strategy: .iso8601),
              date.formatted(.iso8601.year().month().day()) == text else { return nil }
        return date
    }
}
