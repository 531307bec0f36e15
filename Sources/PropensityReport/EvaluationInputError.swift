import PropensityModel

/// Why `evaluate` refuses its inputs before measuring anything.
public enum EvaluationInputError: Error, Equatable, CustomStringConvertible {
    /// `--report` names a file in a directory that does not exist.
    case reportDirectoryMissing(path: String, directory: String)
    /// A challenger reads other columns than the champion (compare anyway with `--allow-schema-differences`).
    case schemasDiffer(champion: String, challenger: String, difference: SchemaDifference)
    /// The models were trained on different label columns and none was given.
    case labelsDiffer(champion: String, championLabel: String, challenger: String, challengerLabel: String)
    /// The same model file named twice.
    case duplicateModel(String)

    public var description: String {
        switch self {
        case .reportDirectoryMissing(let path, let directory):
            return "cannot write the report to \(path): no directory \(directory)"
        case .schemasDiffer(let champion, let challenger, let difference):
            let detail = difference.description(first: champion, second: challenger)
            return "\(champion) and \(challenger) read different columns (\(detail)); "
                + "pass --allow-schema-differences to compare them on a file that has every column"
        case .labelsDiffer(let champion, let championLabel, let challenger, let challengerLabel):
            return "\(champion) predicts '\(championLabel)' but \(challenger) predicts '\(challengerLabel)': pass --label to say which column to measure against"
        case .duplicateModel(let path):
            return "\(path) is named twice with --model"
        }
    }
}
