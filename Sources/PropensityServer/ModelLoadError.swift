import PropensityModelFile

/// Why a file in the model directory provides no model.
public enum ModelLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file name is not valid UTF-8.
    case fileNameNotUTF8
    /// The file name does not give a usable model name (see `ModelFileName`).
    case invalidFileName(FileNameProblem)
    /// The file is not a model this build reads.
    case file(ModelFileError.Reason)

    public enum FileNameProblem: String, Equatable, Sendable {
        case emptyName = "the model name before '.model' (or '@') is empty"
        case hidden = "the model name starts with a dot"
        case controlCharacter = "the file name holds a control character"
        case emptyVersion = "the version after '@' is empty"
        case secondAt = "the version holds a second '@'"
    }

    public var description: String {
        switch self {
        case .fileNameNotUTF8: "the file name is not valid UTF-8"
        case .invalidFileName(let problem): problem.rawValue
        case .file(let reason): reason.description
        }
    }

    /// A short, stable label for metrics (`propensity_model_load_failures_total{reason}`).
    public var label: String {
        switch self {
        case .fileNameNotUTF8, .invalidFileName: "file_name"
        case .file(let reason):
            switch reason {
            case .notFound, .unreadable: "unreadable"
            case .tooLarge: "too_large"
            case .notAModelFile: "not_a_model"
            case .truncated, .trailingBytes: "length"
            case .unsupportedVersion: "version"
            case .checksumMismatch: "checksum"
            case .unknownModelKind, .malformedLayout, .unsupportedRequiredSection, .duplicateSection, .missingSection,
                 .malformedSection: "malformed"
            }
        }
    }
}
