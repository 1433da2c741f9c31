/// An exact amount of money in millionths of a US dollar.
///
/// Money never passes through floating point: it is parsed from and printed to
/// decimal text digit by digit.
public struct MicroDollars: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }

    public static let zero = MicroDollars(0)

    /// Parses `"0.04"`, `"12"`, `"0.000001"`; at most six decimal places, no sign.
    public init?(usd text: String) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty || parts.count == 2,
              whole.allSatisfy(\.isASCIIDigit), whole.count <= 12 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 6, fraction.allSatisfy(\.isASCIIDigit), !(parts.count == 2 && fraction.isEmpty && whole.isEmpty) else {
            return nil
        }
        let padded = fraction + String(repeating: "0", count: 6 - fraction.count)
        guard let dollars = Int64(whole.isEmpty ? "0" : whole), let micros = Int64(padded) else { return nil }
        self.value = dollars * 1_000_000 + micros
    }

    /// The amount as decimal dollars with six places, e.g. `"0.040000"`.
    public var usd: String {
        let sign = value < 0 ? "-" : ""
        let magnitude = value.magnitude
        let fraction = String(magnitude % 1_000_000)
        return "\(sign)\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }

    public var description: String { "$" + usd }

    public static func < (lhs: MicroDollars, rhs: MicroDollars) -> Bool { lhs.value < rhs.value }
    public static func + (lhs: MicroDollars, rhs: MicroDollars) -> MicroDollars { MicroDollars(lhs.value + rhs.value) }
    public static func * (lhs: MicroDollars, rhs: Int) -> MicroDollars { MicroDollars(lhs.value * Int64(rhs)) }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
