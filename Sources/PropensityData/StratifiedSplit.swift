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
}
