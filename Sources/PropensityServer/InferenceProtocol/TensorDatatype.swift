/// The Open Inference Protocol's tensor datatypes (FP16 and BF16 are named so they can be refused by name).
public enum TensorDatatype: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case uint8 = "UINT8", uint16 = "UINT16", uint32 = "UINT32", uint64 = "UINT64"
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case fp16 = "FP16", bf16 = "BF16", fp32 = "FP32", fp64 = "FP64"
    case bytes = "BYTES"

    /// Bytes per element in the binary tensor extension; nil for BYTES (length-prefixed) and the refused types.
    var elementSize: Int? {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .fp32: 4
        case .uint64, .int64, .fp64: 8
        case .fp16, .bf16, .bytes: nil
        }
    }

    package var isNumeric: Bool { elementSize != nil }
}
