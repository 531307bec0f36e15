import COpenBLAS

/// Thin, typed wrappers over the OpenBLAS routines training uses. Matrices are row-major.
public enum BLAS {
    /// `y ← alpha · op(A) · x + beta · y`, with `A` of `rows × columns` and `op(A)` = `Aᵀ` when `transposed`.
    @inline(__always)
    public static func gemv(
        transposed: Bool, rows: Int, columns: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
    ) {
        cblas_dgemv(
            CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, blasint(rows), blasint(columns), alpha, a,
            blasint(lda), x, 1, beta, y, 1)
    }

    /// `C ← alpha · Aᵀ · A + beta · C` on the upper triangle of the `columns × columns` matrix `C`,
    /// with `A` of `rows × columns`: the Gram matrix of a block of rows.
    @inline(__always)
    public static func syrkGram(
        rows: Int, columns: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, beta: Double,
        c: UnsafeMutablePointer<Double>
    ) {
        cblas_dsyrk(
            CblasRowMajor, CblasUpper, CblasTrans, blasint(columns), blasint(rows), alpha, a, blasint(lda), beta, c,
            blasint(columns))
    }

    /// `C ← alpha · Aᵀ · A + beta · C` in single precision, all of the `columns × columns` matrix `C`.
    /// For thin blocks (tens of columns) OpenBLAS's `sgemm` outruns `ssyrk` although it computes both triangles.
    @inline(__always)
    public static func gramFloat(
        rows: Int, columns: Int, a: UnsafePointer<Float>, lda: Int, beta: Float, c: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, blasint(columns), blasint(columns), blasint(rows), 1, a,
            blasint(lda), a, blasint(lda), beta, c, blasint(columns))
    }

    public static func dot(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count)
        return cblas_ddot(blasint(x.count), x, 1, y, 1)
    }

    /// Caps OpenBLAS's own thread pool (it otherwise starts one thread per core).
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }
}
