import PropensityMetrics
import PropensityModel

/// Population stability of current data against a model's reference profile, per input column and for the score.
public struct DriftReport: Sendable, Codable, Equatable {
    public struct Column: Sendable, Codable, Equatable {
        public var name: String
        public var psi: Double
        /// Missing-value rates, reference and current: the commonest cause of a shift worth telling apart.
        public var referenceMissing: Double
        public var currentMissing: Double
    }

    public var referenceRows: Int
    public var currentRows: UInt64
    public var columns: [Column]
    public var scorePSI: Double

    public init(profile: DriftProfile, schema: FeatureSchema, counts: DriftCounts) {
        referenceRows = profile.rows
        currentRows = counts.rows
        columns = zip(schema.features, zip(profile.columns, counts.columns)).map { feature, pair in
            let (bins, current) = pair
            return Column(
                name: feature.name,
                psi: PopulationStability.index(reference: bins.fractions, counts: current),
                referenceMissing: bins.fractions[bins.missingBin],
                currentMissing: counts.rows == 0 ? .nan : Double(current[bins.missingBin]) / Double(counts.rows))
        }
        scorePSI = PopulationStability.index(reference: profile.score.fractions, counts: counts.score)
    }

    /// The largest index, columns and score together (NaN only when there are no rows).
    public var maxPSI: Double { (columns.map(\.psi) + [scorePSI]).max() ?? .nan }

    /// Columns (and "(score)") whose index exceeds `threshold`, largest first.
    public func exceeding(_ threshold: Double) -> [(name: String, psi: Double)] {
        (columns.map { ($0.name, $0.psi) } + [("(score)", scorePSI)]).filter { $0.1 > threshold }.sorted { $0.1 > $1.1 }
    }
}
