/// Why a row got its score: the margin (log-odds) split into a bias, shared by every row, and one signed
/// contribution per input column (schema order). `bias + values.sum()` is the row's margin.
public struct Contributions: Sendable, Equatable {
    /// The expected margin over the training data for trees (TreeSHAP's φ₀); the intercept for logistic regression.
    public var bias: Double
    /// One per schema feature: what the row's value of that column added to the margin.
    public var values: [Double]

    public init(bias: Double, values: [Double]) {
        self.bias = bias
        self.values = values
    }

    /// `bias + Σ values`: equals the model's margin for the row, to rounding.
    public var margin: Double { values.reduce(bias, +) }

    /// The `k` columns with the largest |contribution|, largest first (ties: lower column first).
    /// - Precondition: `k` ≥ 1 (callers check it against the column count: `ExplainError.invalidTopK`).
    public func top(_ k: Int) -> [(feature: Int, contribution: Double)] {
        precondition(k >= 1)
        return values.indices
            .sorted { abs(values[$0]) != abs(values[$1]) ? abs(values[$0]) > abs(values[$1]) : $0 < $1 }
            .prefix(k).map { ($0, values[$0]) }
    }

    /// Global importance: each column's mean |contribution| over `rows` (SHAP's usual summary).
    public static func meanAbsolute(_ rows: [Contributions]) -> [Double] {
        guard let width = rows.first?.values.count else { return [] }
        var sums = [Double](repeating: 0, count: width)
        for row in rows { for j in 0..<width { sums[j] += abs(row.values[j]) } }
        return sums.map { $0 / Double(rows.count) }
    }
}
