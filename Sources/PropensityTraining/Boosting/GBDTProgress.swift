/// A boosting round done, for progress output: every round reports its number; the rounds `GBDTOptions.logEvery`
/// asks for (and the last) also carry train (and validation) metrics.
public struct GBDTProgress: Sendable {
    public var iteration: Int
    /// `GBDTOptions.trees`: early stopping may end the run before.
    public var plannedTrees: Int
    /// Whether the metrics below were computed for this round (NaN and nil otherwise).
    public var hasMetrics: Bool
    public var trainLogLoss: Double
    public var trainAUC: Double
    public var validationLogLoss: Double?
    public var validationAUC: Double?
}
