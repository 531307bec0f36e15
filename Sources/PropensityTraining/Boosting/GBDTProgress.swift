/// Metrics after a boosting round, for progress output.
public struct GBDTProgress: Sendable {
    public var iteration: Int
    public var trainLogLoss: Double
    public var trainAUC: Double
    public var validationLogLoss: Double?
    public var validationAUC: Double?
}
