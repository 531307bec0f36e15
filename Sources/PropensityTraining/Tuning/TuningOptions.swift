/// How `propensity tune` searches: the space, the budget, the trees of each trial and the seed.
public struct TuningOptions: Sendable {
    public var space = SearchSpace.standard
    /// Stop after this many trials…
    public var trials: Int? = 40
    /// …or once this many seconds have passed (a trial already started runs to its end); whichever comes first.
    public var timeLimit: Double? = nil
    /// Trees per trial at most; each trial stops `patience` trees after its mean CV AUC last improved.
    public var maxTrees = 1000
    public var patience = 50
    /// Median pruning of unpromising trials (see `MedianPruner`).
    public var pruning = true
    /// Random points before the TPE model takes over (the first trial is always `SearchSpace.start`).
    public var startupTrials = 10
    public var seed: UInt64 = 42
    /// Folds boosted at once (each on one thread).
    public var threads = 2

    public init() {}

    public func validate() throws(TuningError) {
        if let trials, trials < 1 { throw .invalid(option: "trials", requirement: "at least 1") }
        if let timeLimit, !(timeLimit > 0) {
            throw .invalid(option: "time-limit", requirement: "a positive number of seconds")
        }
        if trials == nil && timeLimit == nil { throw .noBudget }
        guard maxTrees >= 1 else { throw .invalid(option: "max-trees", requirement: "at least 1") }
        guard patience >= 1 else { throw .invalid(option: "patience", requirement: "at least 1") }
        guard startupTrials >= 1 else { throw .invalid(option: "startup-trials", requirement: "at least 1") }
        guard threads >= 1 else { throw .invalid(option: "threads", requirement: "at least 1") }
    }
}
