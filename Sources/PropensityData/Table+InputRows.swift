/// Extracts model inputs from a table: one float32 per feature per row, row-major, in the order asked for.
extension Table {
    /// How one model input is read from a column.
    public struct InputSpec: Sendable {
        public var name: String
        /// nil for a numeric input; for a categorical one, the model's vocabulary: a value becomes its index there,
        /// a value not in it becomes -1 (unseen), a missing value NaN.
        public var categories: [String]?

        public init(name: String, categories: [String]?) {
            self.name = name
            self.categories = categories
        }
    }

    /// Row-major `rowCount × inputs.count` floats, NaN for missing.
    public func inputRows(_ inputs: [InputSpec]) throws(CSVError) -> [Float] {
        let width = inputs.count
        var out = [Float](repeating: .nan, count: rowCount * width)
        let byName = columnIndexByName
        for (j, input) in inputs.enumerated() {
            let values = try inputColumn(input, byName: byName)
            for i in 0..<rowCount { out[i * width + j] = values[i] }
        }
        return out
    }

    /// One input's value in every row, as `inputRows` reads it: for consumers that go column by column, so that a
    /// large table is never copied whole.
    public func inputColumn(_ input: InputSpec) throws(CSVError) -> [Float] {
        try inputColumn(input, byName: columnIndexByName)
    }

    private func inputColumn(_ input: InputSpec, byName: [String: Int]) throws(CSVError) -> [Float] {
        guard let column = byName[input.name].map({ columns[$0] }) else {
            throw CSVError(file: source, message: "the model needs a column named '\(input.name)', which the file lacks")
        }
        if let vocabulary = input.categories {
            guard column.kind == .categorical else {
                throw CSVError(file: source, column: input.name, message: "must be read as categorical")
            }
            let index = Dictionary(vocabulary.enumerated().map { ($1, Float($0)) }, uniquingKeysWith: { a, _ in a })
            let mapped = column.categories.map { index[$0] ?? -1 }
            return column.codes.map { code in code < 0 ? .nan : mapped[Int(code)] }
        }
        guard column.kind == .numeric else {
            throw CSVError(file: source, column: input.name, message: "must be numeric, but holds text")
        }
        // A finite number beyond float32's range was read as ±inf (the parser refuses `inf` itself), which no model
        // scores (the server refuses it too, docs/protocol.md).
        if let i = column.numbers.firstIndex(where: { $0.isInfinite }) {
            throw CSVError(
                file: source, line: rowLines[i], column: input.name,
                message: "a value beyond the float32 range (±3.4e38) cannot be scored")
        }
        return column.numbers
    }
}
