import PropensityData
import PropensityModel

extension LogisticRegressionModel {
    /// The probability of every row of the table the model was fitted on, in double precision, column by column.
    /// The schema came from this table, so each feature's column is there with the same kind.
    func probabilities(table: Table) -> [Double] {
        var z = [Double](repeating: intercept, count: table.rowCount)
        for (feature, term) in zip(schema.features, terms) {
            guard let column = table.column(named: feature.name) else {
                preconditionFailure("the model's feature '\(feature.name)' is not a column of its training table")
            }
            switch term {
            case .numeric(let t):
                let missing = t.weight * (t.imputedValue - t.center) / t.scale + (t.missingWeight ?? 0)
                for i in z.indices {
                    let x = column.numbers[i]
                    z[i] += x.isNaN ? missing : t.weight * (x - t.center) / t.scale
                }
            case .categorical(let weights):
                // Table codes index the table's categories; the model's weights follow the schema's vocabulary.
                let index = Dictionary(
                    uniqueKeysWithValues: (feature.kind.categories ?? []).enumerated().map { ($1, $0) })
                let weightOfCode = column.categories.map { index[$0].map { weights[$0] } ?? 0 }
                for i in z.indices where column.codes[i] >= 0 { z[i] += weightOfCode[Int(column.codes[i])] }
            }
        }
        return z.map(Sigmoid.of)
    }
}
