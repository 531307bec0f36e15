import NIOHTTP1
import PropensityProtocol

/// Why an Open Inference Protocol request failed. Each case has its HTTP status; the body is the protocol's error
/// shape, `{"error": message}`. Messages name the tensor, field or model at fault and never echo feature values.
public enum InferenceError: Error, Equatable, Sendable {
    case unknownPath(String)
    case methodNotAllowed(String)
    case unauthorized
    case modelNotFound(String)
    case bodyTooLarge(limit: Int)
    case malformedJSON(String)
    case missingField(String)
    case unsupportedDatatype(tensor: String, datatype: String)
    /// The tensor's datatype does not fit the feature (BYTES for a numeric one, say).
    case wrongDatatype(tensor: String, datatype: String, expected: String)
    case badShape(tensor: String, reason: String)
    case badData(tensor: String, reason: String)
    case unknownTensor(String)
    case duplicateTensor(String)
    case missingFeature(String)
    case rowCountMismatch(tensor: String, rows: Int, expected: Int)
    case tooManyRows(Int, limit: Int)
    case unknownOutput(String)
    case cannotExplain(String)
    case badBinaryData(String)
    /// A `visitor_key` names a route that is not loaded.
    case routeNotFound(String)
    case invalidVisitorKey(length: Int)

    /// The binary protocol's code for the same fault (docs/protocol.md), so that a route's
    /// `propensity_route_errors_total{route,code}` counts one set of codes whichever port a request came in on. Faults
    /// of the request's own shape (tensors, datatypes, JSON) are the binary port's malformed request (1).
    package var protocolCode: ErrorCode {
        switch self {
        case .modelNotFound: .unknownModel
        case .tooManyRows: .tooManyRows
        case .cannotExplain: .cannotExplain
        case .routeNotFound: .unknownRoute
        case .invalidVisitorKey: .invalidVisitorKey
        case .unauthorized: .unauthorized
        case .bodyTooLarge: .frameTooLarge
        case .unknownPath, .methodNotAllowed, .malformedJSON, .missingField, .unsupportedDatatype, .wrongDatatype,
             .badShape, .badData, .unknownTensor, .duplicateTensor, .missingFeature, .rowCountMismatch, .unknownOutput,
             .badBinaryData:
            .malformedFrame
        }
    }

    public var status: HTTPResponseStatus {
        switch self {
        case .unknownPath, .modelNotFound, .routeNotFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .unauthorized: .unauthorized
        case .bodyTooLarge: .payloadTooLarge
        default: .badRequest
        }
    }

    public var message: String {
        switch self {
        case .unknownPath(let path): "no such endpoint: \(path)"
        case .methodNotAllowed(let method): "method \(method) is not allowed here"
        case .unauthorized: "missing or wrong bearer token"
        case .modelNotFound(let name): "model '\(name)' is not loaded"
        case .bodyTooLarge(let limit): "request body larger than \(limit) bytes"
        case .malformedJSON(let reason): "malformed JSON: \(reason)"
        case .missingField(let field): "missing field '\(field)'"
        case .unsupportedDatatype(let tensor, let datatype): "input '\(tensor)': datatype \(datatype) is not supported"
        case .wrongDatatype(let tensor, let datatype, let expected):
            "input '\(tensor)': datatype \(datatype) does not fit this feature (expected \(expected))"
        case .badShape(let tensor, let reason): "input '\(tensor)': \(reason)"
        case .badData(let tensor, let reason): "input '\(tensor)': \(reason)"
        case .unknownTensor(let name): "input '\(name)' is not a feature of this model"
        case .duplicateTensor(let name): "input '\(name)' is given twice"
        case .missingFeature(let name): "feature '\(name)' has no input tensor"
        case .rowCountMismatch(let tensor, let rows, let expected):
            "input '\(tensor)' has \(rows) rows, the other inputs \(expected)"
        case .tooManyRows(let rows, let limit): "\(rows) rows, more than the limit of \(limit) per request"
        case .unknownOutput(let name): "no output '\(name)' (outputs: probability, contributions)"
        case .cannotExplain(let name): "model '\(name)' cannot explain (a tree ensemble without node covers)"
        case .badBinaryData(let reason): "binary tensor data: \(reason)"
        case .routeNotFound(let name):
            "no route named '\(name)' is loaded (a request with a visitor_key names a route of the experiments file)"
        case .invalidVisitorKey(let length):
            "a visitor_key must be 1 to \(maxVisitorKeyBytes) bytes of UTF-8, not \(length)"
        }
    }
}
