import PropensityModel

/// Rows counted into a profile's bins: what current data (a file, or a server's recent requests) looks like, in the
/// reference's terms.
public struct DriftCounts: Sendable, Equatable {
    /// Per schema column, one count per bin (missing last).
    public var columns: [[UInt64]]
    public var score: [UInt64]
    public var rows: UInt64

    /// Zero counts shaped like `profile`.
    public init(shapedLike profile: DriftProfile) {
        columns = profile.columns.map { [UInt64](repeating: 0, count: $0.binCount) }
        score = [UInt64](repeating: 0, count: profile.score.binCount)
        rows = 0
    }

    /// Counts one row of raw features (schema order) and its score.
    public mutating func add(row: ArraySlice<Float>, score value: Float, profile: DriftProfile) {
        for (j, x) in zip(profile.columns.indices, row) { columns[j][profile.columns[j].bin(of: x)] += 1 }
        score[profile.score.bin(of: value)] += 1
        rows += 1
    }

    /// Counts row-major rows (`profile.columns.count` features each) with their scores.
    public static func of(rows: [Float], scores: [Float], profile: DriftProfile) -> DriftCounts {
        var counts = DriftCounts(shapedLike: profile)
        let width = profile.columns.count
        for i in scores.indices { counts.add(row: rows[(i * width)..<((i + 1) * width)], score: scores[i], profile: profile) }
        return counts
    }
}
