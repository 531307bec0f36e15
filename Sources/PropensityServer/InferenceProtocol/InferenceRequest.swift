import Foundation

/// A decoded infer request: `{"id"?, "parameters"?, "inputs": [...], "outputs"?: [...]}`, optionally followed by
/// binary tensor data (the HTTP binary-tensor extension: the JSON is the body's first `jsonLength` bytes, each input
/// with `parameters.binary_data_size` takes that many bytes of the rest, in input order).
struct InferenceRequest {
    var id: String?
    var inputs: [InputTensor]
    /// Outputs asked for by name; empty: `probability` only.
    var outputs: [RequestedOutput]
    /// `parameters.binary_data_output`: every output in binary unless it says otherwise.
    var binaryOutputs: Bool

    struct InputTensor {
        var name: String
        var datatype: TensorDatatype
        var shape: [Int]
        var data: TensorData
    }

    struct RequestedOutput {
        var name: String
        var binary: Bool?
    }

    /// Elements in row-major order: numbers (nil: JSON null, a missing value) or strings (BYTES).
    enum TensorData {
        case numbers([Double?])
        case strings([String?])
    }

    /// - Parameter jsonLength: the `Inference-Header-Content-Length` header, when present.
    init(body: [UInt8], jsonLength: Int?) throws(InferenceError) {
        let headerLength = jsonLength ?? body.count
        guard headerLength >= 0, headerLength <= body.count else {
            throw .badBinaryData("Inference-Header-Content-Length \(headerLength) is outside the body of \(body.count) bytes")
        }
        // JSONDecoder, not JSONSerialization: the latter reads long decimals (0.10000000149011612, a float32 as
        // Python prints it) as NSDecimalNumber, whose double is not the nearest one, so scores would not match.
        let root: Root
        do {
            root = try JSONDecoder().decode(Root.self, from: Data(body[0..<headerLength]))
        } catch let error as DecodingError {
            throw Self.describe(error)
        } catch {
            throw .malformedJSON("the request body is not a JSON document")
        }
        id = root.id
        binaryOutputs = root.parameters?["binary_data_output"]?.bool ?? false
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

    private struct Root: Decodable {
        var id: String?
        var parameters: [String: JSONValue]?
        var inputs: [Input]
        var outputs: [Output]?
    }

    private struct Input: Decodable {
        var name: String
        var datatype: String
        var shape: [Int]
        var parameters: [String: JSONValue]?
        var data: JSONValue?

        enum CodingKeys: String, CodingKey { case name, datatype, shape, parameters, data }

        /// Flat data of the datatype's kind is read in one go (what every client sends); nested or mixed data falls
        /// back to the general `JSONValue`, which tries each JSON type in turn (each failed try is a thrown error).
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            datatype = try c.decode(String.self, forKey: .datatype)
            shape = try c.decode([Int].self, forKey: .shape)
            parameters = try c.decodeIfPresent([String: JSONValue].self, forKey: .parameters)
            guard c.contains(.data) else { data = nil; return }
            if datatype == TensorDatatype.bytes.rawValue {
                if let flat = try? c.decode([String?].self, forKey: .data) {
                    data = .array(flat.map { $0.map(JSONValue.string) ?? .null })
                    return
                }
            } else if datatype != TensorDatatype.bool.rawValue, let flat = try? c.decode([Double?].self, forKey: .data) {
                data = .array(flat.map { $0.map(JSONValue.number) ?? .null })
                return
            }
            data = try c.decode(JSONValue.self, forKey: .data)
        }
    }

    private struct Output: Decodable {
        var name: String
        var parameters: [String: JSONValue]?
    }

    /// Any JSON value: how tensor data and parameters arrive.
    enum JSONValue: Decodable {
        case number(Double), string(String), bool(Bool), null, array([JSONValue]), object([String: JSONValue])

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let x = try? container.decode(Double.self) { self = .number(x) }
            else if let s = try? container.decode(String.self) { self = .string(s) }
            else if let b = try? container.decode(Bool.self) { self = .bool(b) }
            else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
            else { self = .object(try container.decode([String: JSONValue].self)) }
        }

        var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
        var number: Double? { if case .number(let x) = self { x } else { nil } }
    }

    /// Where in the document decoding failed, as a path (`inputs[0].shape`).
    private static func describe(_ error: DecodingError) -> InferenceError {
        func path(_ keys: [CodingKey]) -> String {
            keys.reduce("") { text, key in
                key.intValue.map { "\(text)[\($0)]" } ?? (text.isEmpty ? key.stringValue : "\(text).\(key.stringValue)")
            }
        }
        switch error {
        case .keyNotFound(let key, let context): return .missingField(path(context.codingPath + [key]))
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return .malformedJSON("'\(path(context.codingPath))' has the wrong type")
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? .malformedJSON("the request body is not a JSON document")
                : .malformedJSON("'\(path(context.codingPath))' is not valid")
        @unknown default: return .malformedJSON("the request body could not be read")
        }
    }

    private static func input(_ input: Input, index: Int, body: [UInt8], binaryOffset: inout Int) throws(InferenceError) -> InputTensor {
        let name = input.name
        guard let datatype = TensorDatatype(rawValue: input.datatype), datatype != .fp16, datatype != .bf16 else {
            throw .unsupportedDatatype(tensor: name, datatype: input.datatype)
        }
        guard !input.shape.isEmpty, input.shape.allSatisfy({ $0 >= 0 }) else {
            throw .badShape(tensor: name, reason: "shape must hold at least one non-negative dimension")
        }
        var elements = 1
        for dim in input.shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= 1 << 31 else { throw .badShape(tensor: name, reason: "shape is too large") }
            elements = product
        }
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
    private static func binary(_ bytes: ArraySlice<UInt8>, datatype: TensorDatatype, count: Int, tensor: String) throws(InferenceError) -> TensorData {
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
