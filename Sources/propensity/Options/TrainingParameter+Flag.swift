import PropensityTraining

extension TrainingParameter {
    /// The flag that sets this parameter.
    var flag: String {
        switch self {
        case .scalePositiveWeight: return "--scale-pos-weight"
        default:
            // camelCase → --kebab-case, as swift-argument-parser names the options.
            return "--" + rawValue.reduce(into: "") { out, c in
                if c.isUppercase { out += "-" + c.lowercased() } else { out.append(c) }
            }
        }
    }
}

extension TrainingError {
    /// The library's error in the CLI's words: parameters by their flags.
    var inFlags: CLIError {
        switch self {
        case .invalidParameter(let parameter, let requirement): CLIError("\(parameter.flag) must be \(requirement)")
        case .earlyStoppingNeedsValidation:
            CLIError("--early-stopping-rounds needs a validation split (--validation-fraction > 0)")
        case .constraintOnUnknownColumn, .monotoneOnCategorical, .monotoneDirection:
            CLIError("\(description) (--monotone, --interactions)")
        default: CLIError(description)
        }
    }
}
