import Foundation

/// Gauss–Legendre quadrature on [−1, 1]: n points integrate every polynomial of degree up to 2n − 1 exactly.
enum GaussLegendre {
    /// The n nodes and weights, nodes descending, by Newton's method on the Legendre polynomial P_n from the usual
    /// first guesses (converges to the last bit in a few steps for the small n used here).
    static func rule(points n: Int) -> [(node: Double, weight: Double)] {
        precondition(n >= 1)
        return (1...n).map { i in
            var x = cos(Double.pi * (Double(i) - 0.25) / (Double(n) + 0.5))
            for _ in 0..<100 {
                let (p, dp) = legendre(n, x)
                let step = p / dp
                x -= step
                if abs(step) <= 1e-16 { break }
            }
            let derivative = legendre(n, x).derivative
            return (x, 2 / ((1 - x * x) * derivative * derivative))
        }
    }

    /// P_n(x) and P_n'(x) by the three-term recurrence.
    private static func legendre(_ n: Int, _ x: Double) -> (value: Double, derivative: Double) {
        var previous = 1.0, current = x
        if n == 0 { return (1, 0) }
        for k in stride(from: 2, through: n, by: 1) {
            (previous, current) = (current, ((2 * Double(k) - 1) * x * current - Double(k - 1) * previous) / Double(k))
        }
        return (current, Double(n) * (x * current - previous) / (x * x - 1))
    }
}
