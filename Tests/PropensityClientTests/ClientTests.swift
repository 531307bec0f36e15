import Foundation
import NIOCore
import PropensityClient
import PropensityServer
import PropensityTestSupport
import Testing

/// `PropensityClient`, one connection.
@Suite struct ClientTests {
    /// A request on a connection the server has closed was never sent: it fails at once as `connectionClosed`, not
    /// after the timeout as "may have been scored".
    @Test func aRequestOnAClosedConnectionFailsAtOnce() async throws {
        let server = try await TestServer.start()
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        try await client.ping()
        await server.shutdown(timeout: .seconds(5))
        for _ in 0..<500 where client.isConnected { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(!client.isConnected)
        let start = Date()
        do {
            _ = try await client.send(.ping, timeout: .seconds(20))
            Issue.record("a PING on a closed connection was answered")
        } catch ClientError.connectionClosed {
            #expect(Date().timeIntervalSince(start) < 10)
        } catch {
            Issue.record("expected connectionClosed, got \(error)")
        }
    }
}
