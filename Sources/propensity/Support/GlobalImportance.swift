import PropensityModel
import PropensityScoring

/// Each column's mean |contribution| over at most 10,000 rows, evenly spaced (explaining costs far
/// more than scoring); nil for a model that cannot explain (no covers). Largest first.
func globalImportance(_ model: Model, features: [Float]) -> (rows: Int, columns: [(name: String, value: Double)])? {
    guard let explainer = try? Explainer(model: model), model.schema.count > 0 else { return nil }
    let width = model.schema.count
    let rowCount = features.count / width
    let step = max(1, rowCount / 10_000)
    var picked: [Float] = []
    for r in stride(from: 0, to: rowCount, by: step) { picked += features[(r * width)..<((r + 1) * width)] }
    let means = Contributions.meanAbsolute(explainer.explain(rows: picked))
    let columns = zip(model.schema.features.map(\.name), means).sorted { $0.1 > $1.1 }.map { (name: $0.0, value: $0.1) }
    return (picked.count / width, columns)
}
