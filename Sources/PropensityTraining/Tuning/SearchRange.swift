/// The values one parameter may take: `low ... high`, searched uniformly on a log scale when `log` (a fixed value
/// when low == high). Integer parameters take whole numbers in the range.
public struct SearchRange: Sendable, Equatable, CustomStringConvertible {
    public var low: Double
    public var high: Double
    public var log: Bool

    public init(_ low: Double, _ high: Double, log: Bool = false) {
        self.low = low
        self.high = high
        self.log = log
    }

    public var isFixed: Bool { low == high }

    public var description: String {
        isFixed ? Self.format(low) : "\(Self.format(low)) \(Self.format(high))\(log ? " log" : "")"
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
