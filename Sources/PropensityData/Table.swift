/// Whether a column holds numbers or category labels.
public enum ColumnKind: Sendable, Equatable {
    case numeric
    case categorical
}

/// One column of a loaded table, stored in the form its kind needs.
///
/// Numeric columns keep float32 values with `.nan` for missing: the precision the scorer reads inputs in (a value is
/// parsed as a double, then rounded once, as every scoring path rounds it), and half the memory of doubles, which
/// on a large file is most of what training holds. Categorical columns keep a code per row (`-1` for missing) into
/// `categories`, in first-seen order.
public struct Column: Sendable {
    public var name: String
    public var kind: ColumnKind
    public var numbers: [Float]
    public var codes: [Int32]
    public var categories: [String]
    /// The physical line (1-based, header is line 1) where each category was first seen, for error messages.
    public var categoryFirstLine: [Int]
    /// The physical line of the first missing value, if any.
    public var firstMissingLine: Int?

    public init(
        name: String, kind: ColumnKind, numbers: [Float] = [], codes: [Int32] = [], categories: [String] = [],
        categoryFirstLine: [Int] = [], firstMissingLine: Int? = nil
    ) {
        self.name = name
        self.kind = kind
        self.numbers = numbers
        self.codes = codes
        self.categories = categories
        self.categoryFirstLine = categoryFirstLine
        self.firstMissingLine = firstMissingLine
    }

    public var count: Int { kind == .numeric ? numbers.count : codes.count }

    public func isMissing(_ row: Int) -> Bool {
        kind == .numeric ? numbers[row].isNaN : codes[row] < 0
    }
}

/// A table loaded from a CSV file: named, typed columns of equal length.
public struct Table: Sendable {
    public var source: String
    public var columns: [Column]
    public var rowCount: Int
    /// Physical line number of each data row (needed because quoted fields may span lines).
    public var rowLines: [Int]

    public init(source: String, columns: [Column], rowCount: Int, rowLines: [Int]) {
        self.source = source
        self.columns = columns
        self.rowCount = rowCount
        self.rowLines = rowLines
    }

    public func columnIndex(named name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }

    /// Every column's index by name, for callers that look up many columns (one lookup each by `columnIndex` would
    /// be quadratic in the number of columns).
    public var columnIndexByName: [String: Int] {
        Dictionary(columns.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func column(named name: String) -> Column? {
        columnIndex(named: name).map { columns[$0] }
    }
}
