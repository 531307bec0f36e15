import PropensityModel

/// Training data prepared for boosting (`GBDTTrainer.prepare`): the bins of the training and validation rows, the
/// model's input schema, and what the boosting loop needs besides. Holds no raw column.
public struct GBDTInput: Sendable {
    let binned: GBDTTrainer.Binned
    let labels: [UInt8]
    let trainRows: [Int]
    let validationRows: [Int]
    let weights: [Double]?
    let options: GBDTOptions
    let constraints: (monotone: [Int8], groups: [Set<Int>])
    let binningSeconds: Double

    /// The fitted model's inputs: each column's name, and for a categorical one the categories that got a bin.
    public var schema: FeatureSchema { binned.schema }
}
