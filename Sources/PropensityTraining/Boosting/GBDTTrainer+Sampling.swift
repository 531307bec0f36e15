import PropensityData

/// Seeded row and feature sampling (`subsample`, `colsample`).
extension GBDTTrainer {
    /// Bernoulli row sample (XGBoost's `subsample`); never empty.
    static func sampleRows(_ n: Int, _ rate: Double, _ rng: inout SplitMix64) -> [Int32] {
        var rows: [Int32] = []
        rows.reserveCapacity(Int(Double(n) * rate * 1.05) + 16)
        for i in 0..<n where rng.nextUnit() < rate { rows.append(Int32(i)) }
        return rows.isEmpty ? [Int32(rng.nextInt(below: n))] : rows
    }

    /// `max(1, round(rate · count))` features, ascending.
    static func sampleFeatures(_ count: Int, _ rate: Double, _ rng: inout SplitMix64) -> [Int] {
        var all = Array(0..<count)
        rng.shuffle(&all)
        return all.prefix(max(1, Int((rate * Double(count)).rounded()))).sorted()
    }
}
