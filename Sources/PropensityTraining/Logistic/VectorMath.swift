import PropensityLinearAlgebra

/// The two vector reductions the solvers use on every iteration.
func dot(_ a: [Double], _ b: [Double]) -> Double { BLAS.dot(a, b) }

func maxAbs(_ values: [Double]) -> Double {
    values.reduce(0) { max($0, abs($1)) }
}
