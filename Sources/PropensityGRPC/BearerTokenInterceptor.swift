import GRPCCore
import PropensityServer

/// Token auth on the gRPC port: every call but `ServerLive` carries the server's token as `authorization: Bearer T`
/// metadata (as tritonclient's `headers=` sends it), checked like the HTTP header; otherwise UNAUTHENTICATED.
struct BearerTokenInterceptor: ServerInterceptor {
    let service: InferenceService

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        if context.descriptor.method != "ServerLive" {
            let header = request.metadata[stringValues: "authorization"].first(where: { _ in true })
            do throws(InferenceError) {
                try service.authorize(header)
            } catch {
                throw error.rpcError
            }
        }
        return try await next(request, context)
    }
}
