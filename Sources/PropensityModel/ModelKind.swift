/// Stable numbers: they are written into model files.
public enum ModelKind: UInt16, Sendable, CaseIterable {
    case logisticRegression = 1
    case treeEnsemble = 2

    public var name: String {
        switch self {
        case .logisticRegression: "logistic-regression"
        case .treeEnsemble: "tree-ensemble"
        }
    }
}
