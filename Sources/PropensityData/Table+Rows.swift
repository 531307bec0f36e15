extension Table {
    /// The rows at `indices`, in that order, with every column's category list kept whole (codes keep their
    /// meaning, so a model fitted on one subset reads another). Holds out test rows, and cross-validation folds.
    public func rows(_ indices: [Int]) -> Table {
        let columns = columns.map { column in
            var picked = column
            switch column.kind {
            case .numeric: picked.numbers = indices.map { column.numbers[$0] }
            case .categorical: picked.codes = indices.map { column.codes[$0] }
            }
            picked.firstMissingLine = indices.first(where: column.isMissing).map { rowLines[$0] }
            return picked
        }
        return Table(source: source, columns: columns, rowCount: indices.count, rowLines: indices.map { rowLines[$0] })
    }
}
