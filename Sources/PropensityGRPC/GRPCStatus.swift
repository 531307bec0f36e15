import PropensityServer

/// A gRPC call's outcome as its trailers carry it (`grpc-status`, `grpc-message`): the codes of the gRPC core
/// status-code table that this server answers with.
struct GRPCStatus: Error, Equatable {
    enum Code: Int, Sendable {
        case ok = 0
        case invalidArgument = 3
        case deadlineExceeded = 4
        case notFound = 5
        case resourceExhausted = 8
        case unimplemented = 12
        case `internal` = 13
        case unavailable = 14
        case unauthenticated = 16
    }

    var code: Code
    var message: String

    static let ok = GRPCStatus(code: .ok, message: "")

    /// `grpc-message`: percent-encoded UTF-8, every byte outside printable ASCII and '%' itself escaped
    /// (gRPC over HTTP/2, "Responses").
    var encodedMessage: String {
        var encoded = ""
        for byte in message.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                encoded += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return encoded
    }
}

extension InferenceError {
    /// The gRPC status of the protocol's error: its HTTP status in gRPC's codes (so both ports stay in step), with
    /// too many rows as RESOURCE_EXHAUSTED.
    var grpcStatus: GRPCStatus {
        let code: GRPCStatus.Code = switch (self, status) {
        case (.tooManyRows, _): .resourceExhausted
        case (_, .notFound): .notFound
        case (_, .unauthorized): .unauthenticated
        case (_, .payloadTooLarge): .resourceExhausted
        case (_, .methodNotAllowed): .unimplemented
        default: .invalidArgument
        }
        return GRPCStatus(code: code, message: message)
    }
}
