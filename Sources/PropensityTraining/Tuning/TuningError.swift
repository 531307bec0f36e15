/// Why a search cannot run. Everything but `training` is found before any boosting starts.
public enum TuningError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Neither a trial count nor a time limit: the search would not end.
    case noBudget
    /// A search option out of its range; `option` is the CLI flag's name.
    case invalid(option: String, requirement: String)
    /// A search-space file's problem.
    case spec(SearchSpecError)
    /// The folds or a trial's parameters cannot be trained on.
    case training(TrainingError)

    public var description: String {
        switch self {
        case .noBudget: "give --trials or --time-limit (the search needs a budget)"
        case .invalid(let option, let requirement): "--\(option) must be \(requirement)"
        case .spec(let error): error.description
        case .training(let error): error.description
        }
    }
}
