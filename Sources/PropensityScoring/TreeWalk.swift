import CTreeWalk

/// How a flat forest's batch walk steps its rows through the trees. Every kernel scores the same bits; the scalar walk
/// is the reference and the fallback.
public enum TreeWalk: String, Sendable, CaseIterable {
    /// `FlatForest`'s walk: 8 rows per pass, one node at a time, on any CPU.
    case scalar
    /// `LevelForest`'s walk: 8 rows per vector, every tree a perfect binary tree read level by level; the nodes of
    /// levels up to 5 looked up in registers by permutes, the rows' values at levels up to 4 loaded and blended,
    /// deeper ones gathered (x86-64 with AVX2).
    case avx2
    /// The same walk with 16 rows per vector and the opmask registers (x86-64 with AVX-512F): levels of up to 32
    /// nodes look their features and limits up by one or two permutes, levels of 16 and more gather the rows' values.
    case avx512

    /// The walks this CPU can run.
    public static let available: [TreeWalk] =
        propensity_tree_walk_avx512_available() ? [.scalar, .avx2, .avx512]
        : propensity_tree_walk_avx2_available() ? [.scalar, .avx2] : [.scalar]

    /// The fastest walk this CPU can run.
    public static let fastest: TreeWalk = available.last!
}
