import PropensityData

/// Seeded row and feature sampling (`subsample`, `colsample`).
extension GBDTTrainer {
    /// Bernoulli row sample (XGBoost's `subsample`), never empty, and the rows left out, both ascending. One pass
    /// with no branch on the draw (each row is written to both lists and one count advances): the draw is a coin
    /// flip to the branch predictor, and the branchy loop plus a separate complement pass were ~5 % of a tuning run.
    static func sampleRows(_ n: Int, _ rate: Double, _ rng: inout SplitMix64) -> (bag: [Int32], outOfBag: [Int32]) {
        var taken = 0, left = 0
        var outOfBag: [Int32] = []
        var bag = [Int32](unsafeUninitializedCapacity: n) { bag, bagCount in
            outOfBag = [Int32](unsafeUninitializedCapacity: n) { out, outCount in
                for i in 0..<n {
                    let take = rng.nextUnit() < rate ? 1 : 0
                    bag[taken] = Int32(i)
                    out[left] = Int32(i)
                    taken += take
                    left += 1 - take
                }
                outCount = left
            }
            bagCount = taken
        }
        if bag.isEmpty, n > 0 {
            let row = Int32(rng.nextInt(below: n))
            bag = [row]
            outOfBag.remove(at: Int(row))
        }
        return (bag, outOfBag)
    }

    /// `max(1, round(rate · count))` features, ascending.
    static func sampleFeatures(_ count: Int, _ rate: Double, _ rng: inout SplitMix64) -> [Int] {
        var all = Array(0..<count)
        rng.shuffle(&all)
        return all.prefix(max(1, Int((rate * Double(count)).rounded()))).sorted()
    }
}
