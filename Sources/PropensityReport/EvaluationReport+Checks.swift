import Foundation
import PropensityModel

extension EvaluationReport {
    /// Refuses a report path whose directory does not exist, before any work is done.
    public static func checkReportPath(_ path: String) throws(EvaluationInputError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .reportDirectoryMissing(path: path, directory: directory)
        }
    }

    /// Refuses models that cannot be measured side by side: one file named twice, challengers that read other
    /// columns than the champion (unless allowed), or different recorded labels when no label is given.
    public static func checkComparable(
        _ models: [(path: String, schema: FeatureSchema, label: String?)], labelGiven: Bool, allowSchemaDifferences: Bool
    ) throws(EvaluationInputError) {
        var seen = Set<String>()
        for model in models where !seen.insert(model.path).inserted { throw .duplicateModel(model.path) }
        guard let champion = models.first else { return }
        for challenger in models.dropFirst() {
            let difference = champion.schema.difference(to: challenger.schema)
            if !difference.isEmpty, !allowSchemaDifferences {
                throw .schemasDiffer(champion: champion.path, challenger: challenger.path, difference: difference)
            }
            if !labelGiven, let a = champion.label, let b = challenger.label, a != b {
                throw .labelsDiffer(champion: champion.path, championLabel: a, challenger: challenger.path, challengerLabel: b)
            }
        }
    }
}
