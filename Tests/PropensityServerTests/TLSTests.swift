import Foundation
import PropensityClient
import PropensityServer
import Testing

@Suite struct TLSTests {
    static func fixture(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
    }

    @Test func scoresOverTLSAndRefusesPlainText() async throws {
        let registry = ModelRegistry()
        registry.add(ServerTests.model, name: "conv")
        var options = ServerOptions()
        options.tls = try ScoringServer.tlsContext(certificate: Self.fixture("test-cert.pem"), key: Self.fixture("test-key.pem"))
        let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry, options: options)
        let client = try await PropensityClient.connect(
            host: "localhost", port: server.port, token: nil, tls: try ClientTLS.context(caFile: Self.fixture("test-cert.pem")))
        let info = try await client.modelInfo("conv")
        let scores = try await client.score(model: "conv", fingerprint: info.fingerprint, featureCount: 3, features: [40, 0, 2])
        #expect(scores.count == 1)
        try await client.close()
        // A plain-text client gets no answer frame: the TLS layer refuses its bytes and closes the connection.
        let reply = try rawExchange(port: server.port, send: [8, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0], expect: 1, timeoutSeconds: 3)
        #expect(countFrames(reply) == 0)
        // The Swift client, pointed at the TLS port in plain text, times out instead of waiting forever.
        let plain = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        await #expect(throws: (any Error).self) { _ = try await plain.send(.ping, timeout: .milliseconds(500)) }
        try? await plain.close()
        try await server.close()
    }
}
