import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

@testable import PropensityGRPC

/// Runs `server` on loopback while `body` drives it through a plaintext grpc-swift client, then shuts the server
/// down gracefully; the test ends only once `serve()` has returned.
func withLoopbackClient(
    _ server: InferenceGRPCServer, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Void
) async throws {
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await server.serve() }
        let port = await server.port
        try #require(port > 0)
        try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        ) { client in
            try await body(client)
        }
        server.beginGracefulShutdown()
    }
}
