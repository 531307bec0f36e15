import CLAPACKE

/// Solves symmetric positive-definite systems through LAPACK's Cholesky factorization.
public enum Cholesky {
    /// Solves `A x = b` where `A` is `n × n` with its upper triangle filled (row-major); nil if `A` is not
    /// positive definite (the factorization broke down).
    public static func solve(upper a: [Double], n: Int, rightHandSide b: [Double]) -> [Double]? {
        precondition(a.count == n * n && b.count == n)
        var factor = a
        var x = b
        let info = LAPACKE_dposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), 1, &factor,
                                 Int32(n), &x, 1)
        return info == 0 ? x : nil
    }
}
