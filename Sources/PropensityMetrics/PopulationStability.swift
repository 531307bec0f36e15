import Foundation

/// Population stability index between a reference distribution over bins and a current one:
/// `PSI = Σ_i (a_i − e_i) · ln(a_i / e_i)`, with `e_i` the reference and `a_i` the current fraction of bin `i`.
/// An empty bin would make the logarithm infinite, so both fractions are floored at `floor` (1e-4, the usual choice)
/// without renormalising. Conventional reading: below 0.1 stable, 0.1–0.25 a moderate shift, above 0.25 a
/// significant one.
public enum PopulationStability {
    public static let floor = 1e-4

    /// - Parameters:
    ///   - reference: the reference fractions (summing to 1).
    ///   - counts: current counts per bin, same bins; all zero gives NaN (nothing to compare).
    public static func index(reference: [Double], counts: [UInt64]) -> Double {
        precondition(reference.count == counts.count, "reference and current bins differ")
        let total = counts.reduce(0, +)
        guard total > 0 else { return .nan }
        var psi = 0.0
        for (e, c) in zip(reference, counts) {
            let expected = max(e, floor)
            let actual = max(Double(c) / Double(total), floor)
            psi += (actual - expected) * log(actual / expected)
        }
        return psi
    }
}
