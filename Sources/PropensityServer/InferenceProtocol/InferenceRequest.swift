import Foundation

/// A decoded infer request: `{"id"?, "parameters"?, "inputs": [...], "outputs"?: [...]}`, optionally followed by
/// binary tensor data (the HTTP binary-tensor extension: the JSON is the body's first `jsonLength` bytes, each input
/// with `parameters.binary_data_size` takes that many bytes of the rest, in input order).
/// Built from JSON here, and from protobuf by the gRPC service (`package` members).
package struct InferenceRequest {
    package var id: String?
    package var inputs: [InputTensor]
    /// Outputs asked for by name; empty: `probability` only.
    package var outputs: [RequestedOutput]
    /// `parameters.binary_data_output`: every output in binary unless it says otherwise.
    package var binaryOutputs: Bool
    /// `parameters.visitor_key`: the request names a route (experiments), whose variant for this visitor answers.
    package var visitorKey: String?

    package struct InputTensor {
        package var name: String
        package var datatype: TensorDatatype
        package var shape: [Int]
        package var data: TensorData

        package init(name: String, datatype: TensorDatatype, shape: [Int], data: TensorData) {
            self.name = name
            self.datatype = datatype
            self.shape = shape
            self.data = data
        }
    }

    package struct RequestedOutput {
        package var name: String
        package var binary: Bool?

        package init(name: String, binary: Bool?) {
            self.name = name
            self.binary = binary
        }
    }

    /// Elements in row-major order: numbers (nil: JSON null, a missing value) or strings (BYTES).
    package enum TensorData {
        case numbers([Double?])
        case strings([String?])
    }

    package init(
        id: String?, inputs: [InputTensor], outputs: [RequestedOutput], binaryOutputs: Bool = false,
        visitorKey: String? = nil
    ) {
        self.id = id
        self.inputs = inputs
        self.outputs = outputs
        self.binaryOutputs = binaryOutputs
        self.visitorKey = visitorKey
    }

    /// - Parameter jsonLength: the `Inference-Header-Content-Length` header, when present.
    init(body: [UInt8], jsonLength: Int?) throws(InferenceError) {
        let headerLength = jsonLength ?? body.count
        guard headerLength >= 0, headerLength <= body.count else {
            throw .badBinaryData("Inference-Header-Content-Length \(headerLength) is outside the body of \(body.count) bytes")
        }
        let root: Root
        do {
            root = try Root(try JSONReader.parse(body[0..<headerLength]))
        } catch let error as InferenceError {
            throw error
        } catch {
            throw .malformedJSON("the request body is not a JSON document")
        }
        id = root.id
        binaryOutputs = root.parameters?["binary_data_output"]?.bool ?? false
        switch root.parameters?["visitor_key"] {
        case nil: visitorKey = nil
        case .string(let key)?: visitorKey = key
        default: throw .malformedJSON("'parameters.visitor_key' must be a string")
        }
        guard !root.inputs.isEmpty else { throw .malformedJSON("'inputs' must not be empty") }
        var binary = headerLength  // where the next input's binary data starts
        var decoded: [InputTensor] = []
        for (index, input) in root.inputs.enumerated() {
            decoded.append(try Self.input(input, index: index, body: body, binaryOffset: &binary))
        }
        guard binary == body.count else {
            throw .badBinaryData("\(body.count - binary) bytes after the last input's data")
        }
        inputs = decoded
        outputs = (root.outputs ?? []).map { RequestedOutput(name: $0.name, binary: $0.parameters?["binary_data"]?.bool) }
    }

    private struct Root {
        var id: String?
        var parameters: [String: JSONValue]?
        var inputs: [Input]
        var outputs: [Output]?

        init(_ document: JSONValue) throws(InferenceError) {
            let fields = try Fields(document, path: "")
            id = try fields.optionalString("id")
            parameters = try fields.optionalObject("parameters")
            inputs = try fields.array("inputs").enumerated().map { (k, v) throws(InferenceError) in try Input(v, path: "inputs[\(k)]") }
            outputs = try fields.optionalArray("outputs")?.enumerated().map { (k, v) throws(InferenceError) in
                let output = try Fields(v, path: "outputs[\(k)]")
                return Output(name: try output.string("name"), parameters: try output.optionalObject("parameters"))
            }
        }
    }

    private struct Input {
        var name: String
        var datatype: String
        var shape: [Int]
        var parameters: [String: JSONValue]?
        /// The `data` member as sent (nil when absent, `.null` when null).
        var data: JSONValue?

        init(_ value: JSONValue, path: String) throws(InferenceError) {
            let fields = try Fields(value, path: path)
            name = try fields.string("name")
            datatype = try fields.string("datatype")
            shape = try fields.array("shape").enumerated().map { (k, v) throws(InferenceError) in
                guard case .number(let x) = v, let dim = Int(exactly: x) else {
                    throw .malformedJSON("'\(path).shape[\(k)]' has the wrong type")
                }
                return dim
            }
            parameters = try fields.optionalObject("parameters")
            data = fields.members["data"]
        }
    }

    private struct Output {
        var name: String
        var parameters: [String: JSONValue]?
    }

    /// An object's members, read with the error the protocol gives: the missing or mistyped field by its path
    /// (`inputs[0].shape`). Optional members may be absent or null.
    private struct Fields {
        let members: [String: JSONValue]
        let path: String

        init(_ value: JSONValue, path: String) throws(InferenceError) {
            guard case .object(let members) = value else {
                throw .malformedJSON(path.isEmpty ? "the request body must be a JSON object" : "'\(path)' has the wrong type")
            }
            self.members = members
            self.path = path
        }

        private func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        private func required(_ key: String) throws(InferenceError) -> JSONValue {
            guard let value = members[key] else { throw .missingField(at(key)) }
            return value
        }

        private func wrongType(_ key: String) -> InferenceError { .malformedJSON("'\(at(key))' has the wrong type") }

        func string(_ key: String) throws(InferenceError) -> String {
            guard case .string(let text) = try required(key) else { throw wrongType(key) }
            return text
        }

        func array(_ key: String) throws(InferenceError) -> [JSONValue] {
            guard case .array(let list) = try required(key) else { throw wrongType(key) }
            return list
        }

        func optionalString(_ key: String) throws(InferenceError) -> String? {
            switch members[key] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw wrongType(key)
            }
        }

        func optionalObject(_ key: String) throws(InferenceError) -> [String: JSONValue]? {
            switch members[key] {
            case nil, .null?: return nil
            case .object(let object)?: return object
            default: throw wrongType(key)
            }
        }

        func optionalArray(_ key: String) throws(InferenceError) -> [JSONValue]? {
            switch members[key] {
            case nil, .null?: return nil
            case .array(let list)?: return list
            default: throw wrongType(key)
            }
        }
    }

    /// Any JSON value: how tensor data and parameters arrive.
    enum JSONValue {
        case number(Double), string(String), bool(Bool), null, array([JSONValue]), object([String: JSONValue])

        var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
        var number: Double? { if case .number(let x) = self { x } else { nil } }
    }

    /// A datatype the service takes (FP16 and BF16 are refused by name).
    package static func datatype(_ text: String, tensor: String) throws(InferenceError) -> TensorDatatype {
        guard let datatype = TensorDatatype(rawValue: text), datatype != .fp16, datatype != .bf16 else {
            throw .unsupportedDatatype(tensor: tensor, datatype: text)
        }
        return datatype
    }

    /// The element count of a shape: at least one dimension, none negative, at most 2^31 elements.
    package static func elementCount(_ shape: [Int], tensor: String) throws(InferenceError) -> Int {
        guard !shape.isEmpty, shape.allSatisfy({ $0 >= 0 }) else {
            throw .badShape(tensor: tensor, reason: "shape must hold at least one non-negative dimension")
        }
        var elements = 1
        for dim in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= 1 << 31 else { throw .badShape(tensor: tensor, reason: "shape is too large") }
            elements = product
        }
        return elements
    }

    private static func input(_ input: Input, index: Int, body: [UInt8], binaryOffset: inout Int) throws(InferenceError) -> InputTensor {
        let name = input.name
        let datatype = try Self.datatype(input.datatype, tensor: name)
        let elements = try Self.elementCount(input.shape, tensor: name)
        let data: TensorData
        if let size = input.parameters?["binary_data_size"] {
            guard input.data == nil else { throw .badData(tensor: name, reason: "has both 'data' and binary_data_size") }
            guard let count = size.number, let length = Int(exactly: count), length >= 0, length <= body.count - binaryOffset
            else { throw .badBinaryData("input '\(name)': binary_data_size is not a byte count within the body") }
            data = try Self.binary(
                body[binaryOffset..<(binaryOffset + length)], datatype: datatype, count: elements, tensor: name)
            binaryOffset += length
        } else {
            guard let json = input.data else { throw .missingField("inputs[\(index)].data") }
            data = try Self.json(json, datatype: datatype, count: elements, tensor: name)
        }
        return InputTensor(name: name, datatype: datatype, shape: input.shape, data: data)
    }

    /// JSON data, nested as the shape or flat, row-major.
    private static func json(_ value: JSONValue, datatype: TensorDatatype, count: Int, tensor: String) throws(InferenceError) -> TensorData {
        var flat: [JSONValue] = []
        flat.reserveCapacity(count)
        func flatten(_ v: JSONValue) {
            if case .array(let list) = v { for x in list { flatten(x) } } else { flat.append(v) }
        }
        flatten(value)
        guard flat.count == count else {
            throw .badData(tensor: tensor, reason: "\(flat.count) elements for a shape of \(count)")
        }
        if datatype == .bytes {
            var strings: [String?] = []
            strings.reserveCapacity(count)
            for x in flat {
                switch x {
                case .null: strings.append(nil)
                case .string(let s): strings.append(s)
                default: throw .badData(tensor: tensor, reason: "BYTES elements must be strings")
                }
            }
            return .strings(strings)
        }
        var numbers: [Double?] = []
        numbers.reserveCapacity(count)
        for x in flat {
            switch x {
            case .null: numbers.append(nil)
            case .number(let n): numbers.append(n)
            case .bool(let b) where datatype == .bool: numbers.append(b ? 1 : 0)
            default: throw .badData(tensor: tensor, reason: "\(datatype.rawValue) elements must be numbers")
            }
        }
        return .numbers(numbers)
    }

    /// Raw little-endian elements; BYTES as a 4-byte little-endian length before each element.
    package static func binary(_ bytes: ArraySlice<UInt8>, datatype: TensorDatatype, count: Int, tensor: String) throws(InferenceError) -> TensorData {
        guard let size = datatype.elementSize else {
            var strings: [String?] = []
            var at = bytes.startIndex
            while at < bytes.endIndex {
                guard bytes.endIndex - at >= 4 else { throw .badBinaryData("input '\(tensor)': a BYTES length is cut short") }
                let length = Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
                at += 4
                guard bytes.endIndex - at >= length else { throw .badBinaryData("input '\(tensor)': a BYTES element is cut short") }
                guard let s = String(validating: bytes[at..<(at + length)], as: UTF8.self) else {
                    throw .badData(tensor: tensor, reason: "BYTES elements must be UTF-8 category names")
                }
                strings.append(s)
                at += length
            }
            guard strings.count == count else {
                throw .badData(tensor: tensor, reason: "\(strings.count) elements for a shape of \(count)")
            }
            return .strings(strings)
        }
        guard bytes.count == size * count else {
            throw .badBinaryData("input '\(tensor)': \(bytes.count) bytes for \(count) \(datatype.rawValue) elements")
        }
        var numbers = [Double?](repeating: nil, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let at = i * size
                numbers[i] = switch datatype {
                case .bool, .uint8: Double(raw[at])
                case .int8: Double(Int8(bitPattern: raw[at]))
                case .uint16: Double(raw.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian)
                case .int16: Double(raw.loadUnaligned(fromByteOffset: at, as: Int16.self).littleEndian)
                case .uint32: Double(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
                case .int32: Double(raw.loadUnaligned(fromByteOffset: at, as: Int32.self).littleEndian)
                case .uint64: Double(raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian)
                case .int64: Double(raw.loadUnaligned(fromByteOffset: at, as: Int64.self).littleEndian)
                case .fp32: Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian))
                case .fp64: Double(bitPattern: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian)
                case .fp16, .bf16, .bytes: nil
                }
            }
        }
        return .numbers(numbers)
    }
}
