import PropensityModel

/// Turns an infer request's inputs into the scorer's rows (row-major float32, one per schema feature):
/// - one tensor per feature, named as the feature, shape `[N]` or `[N, 1]`: numeric features from any numeric
///   datatype, categorical ones from BYTES (the category's name; an unknown name is an unseen category) or from
///   numbers (the category's index, as on the binary protocol); JSON `null` and an empty BYTES string are missing;
/// - or one numeric tensor of shape `[N, F]` (F the model's feature count), under any name that is not a feature's,
///   in schema order: what the binary protocol carries, with categories as indices.
enum InferenceRows {
    static func rows(
        _ request: InferenceRequest, schema: FeatureSchema, maxRows: Int
    ) throws(InferenceError) -> (features: [Float], count: Int) {
        let width = schema.count
        if request.inputs.count == 1, let matrix = request.inputs.first, schema.index(of: matrix.name) == nil,
           matrix.shape.count == 2
        {
            guard matrix.shape[1] == width else {
                throw .badShape(tensor: matrix.name, reason: "a matrix input must be [rows, \(width)], not \(matrix.shape)")
            }
            guard matrix.datatype.isNumeric, case .numbers(let values) = matrix.data else {
                throw .wrongDatatype(tensor: matrix.name, datatype: matrix.datatype.rawValue, expected: "a numeric datatype")
            }
            let count = matrix.shape[0]
            guard count <= maxRows else { throw .tooManyRows(count, limit: maxRows) }
            return (values.map { $0.map(Float.init) ?? .nan }, count)
        }
        var byFeature = [InferenceRequest.InputTensor?](repeating: nil, count: width)
        var count: Int?
        for input in request.inputs {
            guard let index = schema.index(of: input.name) else { throw .unknownTensor(input.name) }
            guard byFeature[index] == nil else { throw .duplicateTensor(input.name) }
            guard input.shape.count == 1 || (input.shape.count == 2 && input.shape[1] == 1) else {
                throw .badShape(tensor: input.name, reason: "a feature's input must be [rows] or [rows, 1], not \(input.shape)")
            }
            if let count, count != input.shape[0] {
                throw .rowCountMismatch(tensor: input.name, rows: input.shape[0], expected: count)
            }
            count = input.shape[0]
            byFeature[index] = input
        }
        let rows = count ?? 0
        guard rows <= maxRows else { throw .tooManyRows(rows, limit: maxRows) }
        var features = [Float](repeating: .nan, count: rows * width)
        for (j, feature) in schema.features.enumerated() {
            guard let input = byFeature[j] else { throw .missingFeature(feature.name) }
            switch (input.data, feature.kind.categories) {
            case (.numbers(let values), _):
                for r in 0..<rows { features[r * width + j] = values[r].map(Float.init) ?? .nan }
            case (.strings(let names), let categories?):
                let index = Dictionary(categories.enumerated().map { ($1, Float($0)) }, uniquingKeysWith: { a, _ in a })
                for r in 0..<rows {
                    guard let name = names[r], !name.isEmpty else { continue }  // missing
                    features[r * width + j] = index[name] ?? -1  // -1: an unseen category
                }
            case (.strings, nil):
                throw .wrongDatatype(tensor: input.name, datatype: input.datatype.rawValue, expected: "a numeric datatype")
            }
        }
        return (features, rows)
    }
}
