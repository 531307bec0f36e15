import Foundation
import PropensityServer

extension InferenceRequest {
    /// A gRPC infer request as the service reads any other: inputs with their datatype, shape and elements, from
    /// `raw_input_contents` (one entry per input, little-endian, BYTES length-prefixed) or from each input's
    /// `contents` field for its datatype. Missing values are NaN (FP32/FP64) or an empty BYTES element.
    init(_ request: Inference_ModelInferRequest) throws(InferenceError) {
        guard !request.inputs.isEmpty else { throw .missingField("inputs") }
        let raw = request.rawInputContents
        guard raw.isEmpty || raw.count == request.inputs.count else {
            throw .badBinaryData("\(raw.count) raw_input_contents entries for \(request.inputs.count) inputs")
        }
        var inputs: [InputTensor] = []
        inputs.reserveCapacity(request.inputs.count)
        for (index, input) in request.inputs.enumerated() {
            let name = input.name
            let datatype = try InferenceRequest.datatype(input.datatype, tensor: name)
            let shape = input.shape.map { Int(clamping: $0) }
            let count = try InferenceRequest.elementCount(shape, tensor: name)
            let data: TensorData
            if raw.isEmpty {
                data = try Self.contents(input.contents, datatype: datatype, count: count, tensor: name)
            } else {
                guard !input.hasContents else {
                    throw .badData(tensor: name, reason: "has both contents and raw_input_contents")
                }
                data = try InferenceRequest.binary(ArraySlice(raw[index]), datatype: datatype, count: count, tensor: name)
            }
            inputs.append(InputTensor(name: name, datatype: datatype, shape: shape, data: data))
        }
        var visitorKey: String?
        if let parameter = request.parameters["visitor_key"] {
            guard case .stringParam(let key)? = parameter.parameterChoice else {
                throw .malformedJSON("'parameters.visitor_key' must be a string")
            }
            visitorKey = key
        }
        self.init(
            id: request.id.isEmpty ? nil : request.id, inputs: inputs,
            outputs: request.outputs.map { RequestedOutput(name: $0.name, binary: nil) }, visitorKey: visitorKey)
    }

    /// Elements from the `contents` field the datatype names; any other field set is an error.
    private static func contents(
        _ contents: Inference_InferTensorContents, datatype: TensorDatatype, count: Int, tensor: String
    ) throws(InferenceError) -> TensorData {
        let numbers: [Double]
        switch datatype {
        case .bool: numbers = contents.boolContents.map { $0 ? 1 : 0 }
        case .int8, .int16, .int32: numbers = contents.intContents.map(Double.init)
        case .int64: numbers = contents.int64Contents.map(Double.init)
        case .uint8, .uint16, .uint32: numbers = contents.uintContents.map(Double.init)
        case .uint64: numbers = contents.uint64Contents.map(Double.init)
        case .fp32: numbers = contents.fp32Contents.map(Double.init)
        case .fp64: numbers = contents.fp64Contents
        case .bytes:
            guard contents.bytesContents.count == count else {
                throw .badData(tensor: tensor, reason: "\(contents.bytesContents.count) bytes_contents for a shape of \(count)")
            }
            var strings: [String?] = []
            strings.reserveCapacity(count)
            for element in contents.bytesContents {
                guard let name = String(data: element, encoding: .utf8) else {
                    throw .badData(tensor: tensor, reason: "BYTES elements must be UTF-8 category names")
                }
                strings.append(name)
            }
            return .strings(strings)
        case .fp16, .bf16: throw .unsupportedDatatype(tensor: tensor, datatype: datatype.rawValue)
        }
        guard numbers.count == count else {
            throw .badData(tensor: tensor, reason: "\(numbers.count) elements in the \(datatype.rawValue) contents for a shape of \(count)")
        }
        return .numbers(numbers.map { $0.isNaN ? nil : $0 })
    }
}
