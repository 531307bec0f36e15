/// Stops a trial whose best mean CV AUC at a checkpoint (a tree count) is below the median of what earlier trials
/// had reached by the same count, as Optuna's `MedianPruner` does with its defaults: no pruning until
/// `startupTrials` trials have passed the checkpoint. A trial that stopped early counts at later checkpoints with
/// its final value.
struct MedianPruner: Sendable {
    var checkpoints: [Int] = [25, 50, 100, 200, 400, 800]
    var startupTrials = 5
    /// Per earlier trial, its best mean AUC by checkpoint.
    private var records: [[Int: Double]] = []

    init() {}

    func shouldPrune(trees: Int, best: Double) -> Bool {
        guard checkpoints.contains(trees) else { return false }
        let reached = records.compactMap { $0[trees] }.sorted()
        guard reached.count >= startupTrials else { return false }
        let median = reached.count % 2 == 1
            ? reached[reached.count / 2] : (reached[reached.count / 2 - 1] + reached[reached.count / 2]) / 2
        return best < median
    }

    /// Records a trial: `values` is its best mean AUC at each checkpoint it reached; a trial that finished (not
    /// pruned) also counts with its final value at the checkpoints beyond its end.
    mutating func record(_ values: [Int: Double], finalValue: Double?) {
        var entry = values
        if let finalValue {
            for c in checkpoints where entry[c] == nil { entry[c] = finalValue }
        }
        records.append(entry)
    }
}
