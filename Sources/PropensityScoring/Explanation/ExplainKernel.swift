import CTreeSHAP
import CTreeWalk

/// Which compiled form of the quadrature TreeSHAP arithmetic (`QuadratureTreeSHAP`) runs: the same C code built for
/// the baseline x86-64 target, for AVX2 and for AVX-512F, chosen at run time. Contraction is off in every form, so all
/// give the same bits; the wider ones do a tree's 4 or 8 points in one or two registers instead of two or four.
public enum ExplainKernel: String, Sendable, CaseIterable {
    case baseline
    case avx2
    case avx512

    /// The kernels this CPU can run.
    public static let available: [ExplainKernel] =
        propensity_tree_walk_avx512_available() ? [.baseline, .avx2, .avx512]
        : propensity_tree_walk_avx2_available() ? [.baseline, .avx2] : [.baseline]

    /// The fastest kernel this CPU can run.
    public static let fastest: ExplainKernel = available.last!

    var path: propensity_shap_path {
        switch self {
        case .baseline: propensity_shap_baseline
        case .avx2: propensity_shap_avx2
        case .avx512: propensity_shap_avx512
        }
    }
}
