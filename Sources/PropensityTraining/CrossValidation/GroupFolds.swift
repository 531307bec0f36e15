import PropensityData

/// Folds that never split a group (one visitor's rows), as scikit-learn's `GroupKFold`: groups in a seeded random
/// order, then largest first (a stable sort, so ties keep the random order), each to the fold with the fewest rows.
public enum GroupFolds {
    /// - Parameters:
    ///   - groups: a group code per row (e.g. a categorical column's codes; −1, missing, is its own group).
    /// - Returns: the fold index of each row.
    public static func folds(groups: [Int32], count: Int, seed: UInt64) -> [Int] {
        precondition(count >= 2)
        var sizes: [Int32: Int] = [:]
        for g in groups { sizes[g, default: 0] += 1 }
        var order = sizes.keys.sorted()
        var rng = SplitMix64(seed: seed)
        rng.shuffle(&order)
        let ranked = order.enumerated().sorted { a, b in
            sizes[a.element]! != sizes[b.element]! ? sizes[a.element]! > sizes[b.element]! : a.offset < b.offset
        }
        var foldRows = [Int](repeating: 0, count: count)
        var foldOf: [Int32: Int] = [:]
        for (_, group) in ranked {
            let lightest = foldRows.indices.min { foldRows[$0] < foldRows[$1] }!
            foldOf[group] = lightest
            foldRows[lightest] += sizes[group]!
        }
        return groups.map { foldOf[$0]! }
    }
}
