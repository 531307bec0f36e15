/// A binary label read from a table column.
public struct BinaryLabels: Sendable {
    /// 1 for the positive class, 0 for the negative, one per row.
    public var values: [UInt8]
    public var positive: String
    public var negative: String?

    public var positiveCount: Int { values.reduce(0) { $0 + Int($1) } }
}

/// Turns a label column into 0/1 values, inferring the positive value for the usual spellings.
public enum LabelReader {
    static let positiveSpellings: Set<String> = ["1", "1.0", "true", "yes", "y", "t", "positive", "pos"]
    static let negativeSpellings: Set<String> = ["0", "0.0", "false", "no", "n", "f", "negative", "neg"]

    /// The label column must have been read as categorical (so its values are kept as text).
    public static func read(_ table: Table, column name: String, positive: String?) throws(CSVError) -> BinaryLabels {
        guard let column = table.column(named: name) else {
            throw CSVError(file: table.source, message: "no label column named '\(name)'")
        }
        guard column.kind == .categorical else {
            throw CSVError(file: table.source, column: name, message: "the label column must be read as text")
        }
        if let line = column.firstMissingLine {
            throw CSVError(file: table.source, line: line, column: name, message: "label is missing")
        }
        let categories = column.categories
        let positiveCode: Int32
        if let positive {
            guard let code = categories.firstIndex(of: positive) else {
                throw CSVError(
                    file: table.source, column: name,
                    message: "the positive value '\(positive)' never occurs (values: \(list(categories)))")
            }
            positiveCode = Int32(code)
            let others = categories.indices.filter { $0 != code }
            if others.count > 1 {
                throw CSVError(
                    file: table.source, line: column.categoryFirstLine[others[1]], column: name,
                    message: "label '\(categories[others[1]])' is neither the positive value '\(positive)' "
                        + "nor the negative value '\(categories[others[0]])'")
            }
        } else {
            if categories.count > 2 {
                throw CSVError(
                    file: table.source, line: column.categoryFirstLine[2], column: name,
                    message: "a binary label has two values, found a third: '\(categories[2])' "
                        + "(after \(list(Array(categories.prefix(2)))))")
            }
            let lowered = categories.map { $0.lowercased() }
            let positives = lowered.indices.filter { positiveSpellings.contains(lowered[$0]) }
            let negatives = lowered.indices.filter { negativeSpellings.contains(lowered[$0]) }
            if positives.count == 1 {
                positiveCode = Int32(positives[0])
            } else if positives.isEmpty, negatives.count == 1, categories.count == 2 {
                positiveCode = Int32(1 - negatives[0])
            } else {
                throw CSVError(
                    file: table.source, column: name,
                    message: "cannot tell which label value is positive (values: \(list(categories))); name it",
                    setting: .positive)
            }
        }
        let negative = categories.indices.first { $0 != Int(positiveCode) }.map { categories[$0] }
        let values = column.codes.map { $0 == positiveCode ? UInt8(1) : UInt8(0) }
        return BinaryLabels(values: values, positive: categories[Int(positiveCode)], negative: negative)
    }

    private static func list(_ values: [String]) -> String {
        values.map { "'\($0)'" }.joined(separator: ", ")
    }
}
