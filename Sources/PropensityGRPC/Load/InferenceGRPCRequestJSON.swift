import Foundation
import PropensityServer

/// One `ModelInfer` request for the load generator, made where the generated types are visible.
public struct InferenceGRPCRequest: Sendable {
    let message: Inference_ModelInferRequest
}

extension InferenceGRPCRequest {
    /// The gRPC form of an HTTP infer request body (`{"inputs": [{"name", "datatype", "shape", "data"}], "outputs"?}`),
    /// elements in each input's typed `contents`, so that one request file drives both transports (and servers that
    /// do not read `raw_input_contents`).
    public init(model: String, json: Data) throws(InferenceError) {
        guard let root = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
              let inputs = root["inputs"] as? [[String: Any]], !inputs.isEmpty
        else { throw .malformedJSON("the request file is not an infer request with 'inputs'") }
        var request = Inference_ModelInferRequest()
        request.modelName = model
        for (index, input) in inputs.enumerated() {
            guard let name = input["name"] as? String, let datatype = input["datatype"] as? String,
                  let shape = input["shape"] as? [Int]
            else { throw .missingField("inputs[\(index)].name/datatype/shape") }
            func flat(_ value: Any?) -> [Any] {
                if let list = value as? [Any] { return list.flatMap { flat($0) } }
                return value.map { [$0] } ?? []
            }
            let data = flat(input["data"])
            var tensor = Inference_ModelInferRequest.InferInputTensor()
            tensor.name = name
            tensor.datatype = datatype
            tensor.shape = shape.map(Int64.init)
            let numbers = data.map { ($0 as? NSNumber)?.doubleValue ?? .nan }  // null: missing
            let datatypeCase = try InferenceRequest.datatype(datatype, tensor: name)
            var integers: [Int64] = []
            if datatypeCase.isNumeric, ![.fp32, .fp64].contains(datatypeCase) {
                integers = numbers.compactMap { Int64(exactly: $0) }
                guard integers.count == numbers.count else {
                    throw .badData(tensor: name, reason: "\(datatype) elements must be whole numbers")
                }
            }
            switch datatypeCase {
            case .fp32: tensor.contents.fp32Contents = numbers.map(Float.init)
            case .fp64: tensor.contents.fp64Contents = numbers
            case .bool: tensor.contents.boolContents = integers.map { $0 != 0 }
            case .int8, .int16, .int32: tensor.contents.intContents = integers.map { Int32(clamping: $0) }
            case .int64: tensor.contents.int64Contents = integers
            case .uint8, .uint16, .uint32: tensor.contents.uintContents = integers.map { UInt32(clamping: $0) }
            case .uint64: tensor.contents.uint64Contents = integers.map { UInt64(clamping: $0) }
            case .bytes: tensor.contents.bytesContents = data.map { ($0 as? String).map { Data($0.utf8) } ?? Data() }
            case .fp16, .bf16: throw .unsupportedDatatype(tensor: name, datatype: datatype)
            }
            request.inputs.append(tensor)
        }
        for output in root["outputs"] as? [[String: Any]] ?? [] {
            if let name = output["name"] as? String { request.outputs.append(.with { $0.name = name }) }
        }
        message = request
    }
}
