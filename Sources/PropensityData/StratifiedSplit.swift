/// Train/validation splits that keep the positive rate equal on both sides.
public enum StratifiedSplit {
    /// Holds out `fraction` of each class (rounded) for validation; both index lists come back sorted.
    public static func split(labels: [UInt8], validationFraction fraction: Double, seed: UInt64)
        -> (train: [Int], validation: [Int])
    {
        precondition(fraction >= 0 && fraction < 1)
        if fraction == 0 { return (Array(labels.indices), []) }
        var rng = SplitMix64(seed: seed)
        var train: [Int] = []
        var validation: [Int] = []
        for cls in [UInt8(0), UInt8(1)] {
            var members = labels.indices.filter { labels[$0] == cls }
            rng.shuffle(&members)
            let held = Int((Double(members.count) * fraction).rounded())
            validation += members[..<held]
            train += members[held...]
        }
        return (train.sorted(), validation.sorted())
    }

    /// Assigns every row to one of `count` folds so each fold holds an equal share of each class (to within one row):
    /// each class is shuffled, then dealt round-robin. The result is the fold index of each row.
    public static func folds(labels: [UInt8], count: Int, seed: UInt64) -> [Int] {
        precondition(count >= 2)
        var rng = SplitMix64(seed: seed)
        var fold = [Int](repeating: 0, count: labels.count)
        var dealt = 0
        for cls in [UInt8(0), UInt8(1)] {
            var members = labels.indices.filter { labels[$0] == cls }
            rng.shuffle(&members)
            // Continue the deal where the previous class stopped, so fold sizes differ by at most one row.
            for row in members {
                fold[row] = dealt % count
                dealt += 1
            }
        }
        return fold
    }
}
