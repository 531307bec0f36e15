import PropensityModel

public struct LogisticRegressionFit: Sendable {
    public var model: LogisticRegressionModel
    public var report: SolverReport
    public var encodedNames: [String]
}
