import PropensityMetrics
import PropensityModel

/// Builds the reference profile of a model from rows it was trained on (or any reference data) and its scores on
/// them: decile edges for numeric columns and the score, the most frequent categories for categorical ones, and the
/// fraction of rows in each bin, missing included.
public enum DriftProfileBuilder {
    /// Categorical columns keep their this-many most frequent categories as bins; the rest share one bin, so a
    /// profile's size does not grow with a column's cardinality.
    public static let maxCategoryBins = 32
    /// Numeric columns and the score are cut at (at most) these quantiles: deciles.
    public static let quantileBins = 10

    /// - Parameters:
    ///   - rows: row-major raw features in schema order (as the scorer takes them), `schema.count` per row.
    ///   - scores: the model's probability for each row.
    /// - Returns: nil when there are no rows.
    public static func profile(rows: [Float], schema: FeatureSchema, scores: [Float]) -> DriftProfile? {
        let width = schema.count
        precondition(rows.count == scores.count * width, "rows and scores disagree")
        return profile(schema: schema, scores: scores) { j in
            (0..<scores.count).map { i in rows[i * width + j] }
        }
    }

    /// The same from the rows' values one column at a time (`column(j)`, a value per row for feature `j` of the
    /// schema), so that a large training set is never copied row-major.
    public static func profile(schema: FeatureSchema, scores: [Float], column: (Int) -> [Float]) -> DriftProfile? {
        guard !scores.isEmpty else { return nil }
        return DriftProfile(rows: scores.count, columns: featureBins(schema: schema, column: column), score: scoreBins(scores))
    }

    /// A profile's input half: each feature's bins from its values in every row (`column(j)` for feature `j`). For
    /// a caller that must release the raw values before the scores exist.
    public static func featureBins(schema: FeatureSchema, column: (Int) -> [Float]) -> [DriftBins] {
        schema.features.enumerated().map { j, feature in
            switch feature.kind {
            case .numeric: numeric(column(j))
            case .categorical(let categories): categorical(column(j), categoryCount: categories.count)
            }
        }
    }

    /// A profile's score half: decile bins of the model's probabilities.
    public static func scoreBins(_ scores: [Float]) -> DriftBins { numeric(scores) }

    /// Edges are the quantiles of at most this many present values (every k-th row), so a profile of a million rows
    /// sorts a tenth of them; fractions always count every row.
    public static let quantileSample = 100_000

    /// Decile edges of the present values (ties collapse edges, so a column with few distinct values gets fewer
    /// bins); an edge equal to the maximum is dropped, as nothing would fall above it.
    static func numeric(_ values: [Float]) -> DriftBins {
        var present = values.filter { !$0.isNaN }
        if present.count > quantileSample {
            let step = (present.count + quantileSample - 1) / quantileSample
            present = stride(from: 0, to: present.count, by: step).map { present[$0] }
        }
        present = FloatSort.ascending(present)
        var edges: [Float] = []
        if let top = present.last {
            for q in 1..<quantileBins {
                let rank = (q * present.count + quantileBins - 1) / quantileBins  // ⌈q·n/10⌉, 1-based
                let edge = present[max(rank, 1) - 1]
                if edge < top, edge != edges.last { edges.append(edge) }
            }
        }
        return finish(.numeric(edges: edges), values)
    }

    /// The most frequent categories (ties: the lower index first) as bins; every other value shares one.
    static func categorical(_ values: [Float], categoryCount: Int) -> DriftBins {
        var counts = [Int](repeating: 0, count: categoryCount)
        for v in values where !v.isNaN && v >= 0 && v < Float(categoryCount) && v == v.rounded(.towardZero) {
            counts[Int(v)] += 1
        }
        let kept = counts.indices.filter { counts[$0] > 0 }
            .sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
            .prefix(maxCategoryBins)
        return finish(.categorical(categories: Array(kept)), values)
    }

    private static func finish(_ kind: DriftBins.Kind, _ values: [Float]) -> DriftBins {
        let empty = DriftBins(kind: kind, fractions: [])
        var counts = [UInt64](repeating: 0, count: empty.binCount)
        switch kind {
        case .numeric(let edges):
            // `bin(of:)` per value, with its match on the kind taken out of the loop (it ran for every row of every
            // column: a third of a 100-tree `train` after boosting).
            let missing = empty.missingBin
            edges.withUnsafeBufferPointer { edges in
                for v in values { counts[v.isNaN ? missing : DriftBins.bin(ofPresent: v, edges: edges)] &+= 1 }
            }
        case .categorical:
            for v in values { counts[empty.bin(of: v)] += 1 }
        }
        let total = Double(values.count)
        return DriftBins(kind: kind, fractions: counts.map { Double($0) / total })
    }
}
