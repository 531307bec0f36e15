import ArgumentParser
import PropensityTraining

extension LogisticRegressionOptions.Solver: ExpressibleByArgument {}

extension ClassWeight: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String { description }
}

/// Logistic-regression flags; defaults are the library's.
struct LogisticFlags: ParsableArguments {
    @Option(help: "Logistic: class weights: none, balanced, or the weight of a positive row.")
    var classWeight: ClassWeight = LogisticRegressionOptions().classWeight
    @Option(help: "Logistic: solver: auto, newton, lbfgs.") var solver: LogisticRegressionOptions.Solver = .auto
    @Option(help: "Logistic: convergence, max |gradient| / rows.") var tolerance = LogisticRegressionOptions().tolerance
    @Option(help: "Logistic: iteration limit.") var maxIterations = LogisticRegressionOptions().maxIterations

    func options(l2: Double?, threads: Int) -> LogisticRegressionOptions {
        var o = LogisticRegressionOptions()
        if let l2 { o.l2 = l2 }
        o.classWeight = classWeight
        o.solver = solver
        o.tolerance = tolerance
        o.maxIterations = maxIterations
        o.threads = threads
        return o
    }
}
