import GRPCCore
import NIOHTTP1
import PropensityServer

extension InferenceError {
    /// The gRPC status of the protocol's error: its HTTP status in gRPC's codes (so both ports stay in step), with
    /// too many rows as RESOURCE_EXHAUSTED.
    var rpcError: RPCError {
        let code: RPCError.Code = switch (self, status) {
        case (.tooManyRows, _): .resourceExhausted
        case (_, .notFound): .notFound
        case (_, .unauthorized): .unauthenticated
        case (_, .payloadTooLarge): .resourceExhausted
        case (_, .methodNotAllowed): .unimplemented
        default: .invalidArgument
        }
        return RPCError(code: code, message: message)
    }
}
