/// Which model a training run fits, with the parameters of its trainer.
public enum TrainingAlgorithm: Sendable {
    case logistic(LogisticRegressionOptions)
    case gbdt(GBDTOptions)

    /// The name recorded in the model's metadata (`algorithm`).
    public var name: String {
        switch self {
        case .logistic: "logistic"
        case .gbdt: "gbdt"
        }
    }

    public var threads: Int {
        switch self {
        case .logistic(let options): options.threads
        case .gbdt(let options): options.threads
        }
    }
}
