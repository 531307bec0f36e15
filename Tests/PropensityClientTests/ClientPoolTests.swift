import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PropensityClient
import PropensityModel
import PropensityProtocol
import PropensityScoring
import PropensityServer
import PropensityTestSupport
import Testing

/// The reconnecting pool: spreading, reconnecting after a restart, and never resending a request that was lost.
@Suite(.serialized) struct ClientPoolTests {
    static func startServer(port: Int = 0) async throws -> ScoringServer { try await TestServer.start(port: port) }

    static func row(_ i: Int) -> [Float] { TestModels.row(i) }

    @Test func poolSpreadsRequestsOverItsConnections() async throws {
        let server = try await Self.startServer()
        var configuration = PropensityClientPool.Configuration(host: "127.0.0.1", port: server.port)
        configuration.connections = 3
        let pool = PropensityClientPool(configuration)
        let fingerprint = try await pool.modelInfo("conv").fingerprint
        let scorer = Scorer(model: TestModels.logistic)
        let correct = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<300 {
                group.addTask {
                    let got = try await pool.score(model: "conv", fingerprint: fingerprint, featureCount: 3, features: Self.row(i))
                    return got == scorer.score(Self.row(i)) ? 1 : 0
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(correct == 300)
        #expect(pool.openConnections == 3)
        #expect(server.openConnections == 3)
        await pool.close()
        await server.shutdown()
    }

    @Test func poolReconnectsAfterTheServerRestarts() async throws {
        var server = try await Self.startServer()
        let port = server.port
        var configuration = PropensityClientPool.Configuration(host: "127.0.0.1", port: port)
        configuration.connections = 2
        configuration.reconnectDelay = .milliseconds(20)
        let pool = PropensityClientPool(configuration)
        try await pool.connectAll()
        let fingerprint = try await pool.modelInfo("conv").fingerprint
        await server.shutdown()
        for _ in 0..<200 where pool.openConnections > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(pool.openConnections == 0)
        // While the server is down, requests fail with a connection error rather than hang.
        await #expect(throws: (any Error).self) { try await pool.ping() }
        server = try await Self.startServer(port: port)
        try await Task.sleep(for: .milliseconds(30))  // past the reconnect delay
        var answered = 0
        for i in 0..<10 {
            do {
                _ = try await pool.score(model: "conv", fingerprint: fingerprint, featureCount: 3, features: Self.row(i))
                answered += 1
            } catch {
                try await Task.sleep(for: .milliseconds(30))  // a connection still inside its reconnect delay
            }
        }
        #expect(answered >= 8)
        #expect(pool.openConnections == 2)
        await pool.close()
        await server.shutdown()
    }

    /// A server that reads one request per connection and hangs up without answering: the request may have been
    /// scored, so the pool must report it and never send it again.
    @Test func poolNeverResendsARequestLostWithItsConnection() async throws {
        let received = NIOLockedValueBox(0)
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HangUpAfterOneFrame(received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        var configuration = PropensityClientPool.Configuration(host: "127.0.0.1", port: listener.localAddress!.port!)
        configuration.connections = 1
        configuration.reconnectDelay = .zero
        let pool = PropensityClientPool(configuration)
        for attempt in 1...3 {
            await #expect {
                try await pool.ping()
            } throws: { error in
                if case ClientError.connectionClosed = error { true } else { false }
            }
            try await Task.sleep(for: .milliseconds(20))
            #expect(received.withLockedValue { $0 } == attempt)  // one frame per request: nothing was resent
        }
        await pool.close()
        try await listener.close()
    }
}

private final class HangUpAfterOneFrame: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let received: NIOLockedValueBox<Int>
    private var buffered = 0

    init(received: NIOLockedValueBox<Int>) { self.received = received }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffered += unwrapInboundIn(data).readableBytes
        // A PING frame is the 12-byte length-prefixed header alone.
        if buffered >= 12 {
            received.withLockedValue { $0 += 1 }
            context.close(promise: nil)
        }
    }
}
