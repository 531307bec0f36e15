/// Reads a sample-weight column: one non-negative finite number per row (`train --weight COLUMN`), at the float32
/// precision tables keep numbers in (as LightGBM and XGBoost keep weights).
public enum WeightReader {
    /// - Throws: `CSVError` naming the file, line and column for no such column, a text column, a missing value,
    ///   or a negative or non-finite weight; and when every weight is 0.
    public static func read(_ table: Table, column name: String) throws(CSVError) -> [Double] {
        guard let column = table.column(named: name) else {
            throw CSVError(file: table.source, message: "no weight column named '\(name)'")
        }
        guard column.kind == .numeric else {
            let line = column.codes.indices.first { !column.isMissing($0) }.map { table.rowLines[$0] }
            throw CSVError(file: table.source, line: line, column: name, message: "a weight must be a number")
        }
        for (row, w) in column.numbers.enumerated() where !(w >= 0 && w.isFinite) {
            let problem = w.isNaN ? "weight is missing" : "a weight must be ≥ 0 and finite, not \(w)"
            throw CSVError(file: table.source, line: table.rowLines[row], column: name, message: problem)
        }
        guard column.numbers.contains(where: { $0 > 0 }) else {
            throw CSVError(file: table.source, column: name, message: "every weight is 0")
        }
        return column.numbers.map(Double.init)
    }
}
