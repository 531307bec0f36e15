import ArgumentParser
import Foundation
import PropensityData
import PropensityTraining

/// How `cv` and `tune` assign rows to folds: stratified and seeded, by a group column, or as a column says.
struct FoldFlags: ParsableArguments {
    @Option(help: "Number of folds (stratified by the label unless --group or --fold-column).") var folds = 5
    @Option(help: "Column whose value identifies a visitor: all of a visitor's rows stay in one fold.") var group: String?
    @Option(help: "Column giving each row's fold (its distinct values, in sorted order, are the folds; --folds is then ignored).")
    var foldColumn: String?

    /// Columns to read as categorical and require.
    var columns: [String] { [group, foldColumn].compactMap { $0 } }

    func validate() throws {
        guard folds >= 2 else { throw CLIError("--folds must be at least 2") }
        if group != nil && foldColumn != nil { throw CLIError("give --group or --fold-column, not both") }
    }

    /// The fold of every row and the scheme in words; the group or fold column is then removed from the table.
    func assign(_ table: inout Table, labels: [UInt8], seed: UInt64) throws -> (folds: [Int], scheme: String) {
        let assignment: [Int]
        let scheme: String
        if let name = group ?? foldColumn {
            guard let column = table.column(named: name) else { throw CLIError("no column named '\(name)'") }
            let distinct = Set(column.codes).count
            if group != nil {
                guard distinct >= folds else {
                    throw CLIError("--group \(name) has \(distinct) distinct values, fewer than --folds \(folds)")
                }
                assignment = GroupFolds.folds(groups: column.codes, count: folds, seed: seed)
                scheme = "grouped by '\(name)'"
            } else {
                guard distinct >= 2 else { throw CLIError("--fold-column \(name) has \(distinct) distinct value: at least 2 folds are needed") }
                if let row = column.codes.firstIndex(of: -1) {
                    throw CLIError("--fold-column \(name): line \(table.rowLines[row]) has no fold")
                }
                // Codes are in first-seen order; folds follow the values' sorted order.
                let ordered = Set(column.codes).sorted {
                    Self.label(column, $0).localizedStandardCompare(Self.label(column, $1)) == .orderedAscending
                }
                let foldOf = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1, $0) })
                assignment = column.codes.map { foldOf[$0]! }
                scheme = "given by '\(name)'"
            }
        } else {
            assignment = StratifiedSplit.folds(labels: labels, count: folds, seed: seed)
            scheme = "stratified"
        }
        table.columns.removeAll { $0.name == group || $0.name == foldColumn }
        return (assignment, scheme)
    }

    private static func label(_ column: Column, _ code: Int32) -> String { column.categories[Int(code)] }

    /// What `cv` and `tune` read: the table with its group, fold and weight columns removed, the labels, the weights
    /// and each row's fold.
    struct Inputs {
        let table: Table
        let labels: BinaryLabels
        let weights: [Double]?
        let assignment: [Int]
        let scheme: String
    }

    func read(_ input: DataOptions, seed: UInt64) throws -> Inputs {
        var csv = try input.csvOptions()
        csv.categorical += columns
        csv.required += columns
        var table = try readTable(input.data, options: csv)
        let labels = try LabelReader.read(table, column: input.label, positive: input.positive)
        let weights = try input.weight.map { try WeightReader.read(table, column: $0) }
        let (assignment, scheme) = try assign(&table, labels: labels.values, seed: seed)
        table.columns.removeAll { $0.name == input.weight }
        return Inputs(table: table, labels: labels, weights: weights, assignment: assignment, scheme: scheme)
    }
}
