import PropensityModel

/// What the constraint tests measure on a fitted ensemble.
enum ConstraintChecks {
    /// The largest step of the margin against `direction` when column `j` of each of `rows` (row-major `inputs`)
    /// walks a 100-point grid over `range`, the row's other values (missing ones included) as they are.
    static func worstViolation(
        _ model: TreeEnsembleModel, inputs: [Float], rows: [Int], column j: Int, range: ClosedRange<Double>,
        direction: Double
    ) -> Double {
        let width = model.schema.count
        var worst = 0.0
        for r in rows {
            var row = Array(inputs[(r * width)..<((r + 1) * width)])
            var previous = Double.nan
            for k in 0..<100 {
                row[j] = Float(range.lowerBound + (range.upperBound - range.lowerBound) * Double(k) / 99)
                let margin = model.margin(row)
                if !previous.isNaN { worst = max(worst, -direction * (margin - previous)) }
                previous = margin
            }
        }
        return worst
    }

    /// Root-to-leaf paths whose features (two or more) fit in no group.
    static func mixedPaths(_ model: TreeEnsembleModel, groups: [Set<Int32>]) -> Int {
        var mixed = 0
        for tree in model.trees where !tree.nodes.isEmpty {
            func walk(_ child: Int32, _ path: Set<Int32>) {
                guard child >= 0 else {
                    if path.count > 1 && !groups.contains(where: { path.isSubset(of: $0) }) { mixed += 1 }
                    return
                }
                let node = tree.nodes[Int(child)]
                walk(node.left, path.union([node.feature]))
                walk(node.right, path.union([node.feature]))
            }
            walk(0, [])
        }
        return mixed
    }
}
