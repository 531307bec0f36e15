import GRPCCore
import PropensityServer

extension InferenceError {
    /// The gRPC status of the protocol's error: what the HTTP status says, in gRPC's codes.
    var rpcError: RPCError {
        let code: RPCError.Code = switch self {
        case .modelNotFound, .unknownPath: .notFound
        case .unauthorized: .unauthenticated
        case .bodyTooLarge, .tooManyRows: .resourceExhausted
        case .methodNotAllowed: .unimplemented
        default: .invalidArgument
        }
        return RPCError(code: code, message: message)
    }
}
