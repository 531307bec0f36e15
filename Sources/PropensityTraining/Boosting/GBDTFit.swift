import PropensityModel

public struct GBDTFit: Sendable {
    public var model: TreeEnsembleModel
    /// Trees kept (the best iteration's count when early stopping triggered).
    public var treeCount: Int
    public var stoppedEarly: Bool
    public var bestValidationLogLoss: Double?
    /// Things the user should know (e.g. categories beyond the bin limit).
    public var notes: [TrainingNote]
    public var binningSeconds: Double
    public var boostingSeconds: Double
    /// Final margins (log-odds) of the training and validation rows, in the order given: metrics need no rescoring.
    public var trainMargins: [Double]
    public var validationMargins: [Double]
}
