import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PropensityClient
import PropensityModel
import PropensityProtocol
import PropensityScoring
import PropensityServer
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// Graceful shutdown under swift-service-lifecycle, and the client pool's reconnects.
@Suite(.serialized) struct LifecycleTests {
    static func startServer(port: Int = 0) async throws -> ScoringServer {
        let registry = ModelRegistry()
        registry.add(ServerTests.model, name: "conv")
        return try await ScoringServer.start(host: "127.0.0.1", port: port, registry: registry)
    }

    static func row(_ i: Int) -> [Float] { [Float(20 + i % 60), Float(i % 2), Float(i % 9)] }

    @Test func gracefulShutdownAnswersEveryRequestAlreadySent() async throws {
        let server = try await Self.startServer()
        let fingerprint = try await Self.fingerprint(port: server.port)
        let scorer = Scorer(model: ServerTests.model)
        // 2,000 pipelined requests of 256 rows: 6 MB of requests and 2 MB of answers, more than the socket buffers
        // hold. They are written from a plain socket so that every one is sent before shutdown begins, however
        // slowly this machine schedules the test; most are still unread or unanswered at that moment.
        var requests = ByteBuffer()
        var expected: [UInt32: [Float]] = [:]
        for i in 0..<2000 {
            let rows = (0..<256).flatMap { Self.row(i + $0) }
            RequestCodec.encode(
                .score(ScoreRequest(model: "conv", fingerprint: fingerprint, rowCount: 256, featureCount: 3, features: rows)),
                requestID: UInt32(i + 1), into: &requests)
            expected[UInt32(i + 1)] = scorer.score(rows)
        }
        let bytes = Array(requests.readableBytesView)
        let socket = try RawSocket(port: server.port, timeoutSeconds: 30)
        defer { socket.close() }
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                // Read everything until the server ends the stream; a reset or a timeout fails the test.
                async let received = onThread { () throws -> [UInt8] in
                    var received: [UInt8] = []
                    while true {
                        let chunk = try socket.receive()
                        if chunk.isEmpty { return received }
                        received += chunk
                    }
                }
                try await onThread { try socket.send(bytes) }
                trigger.triggerGracefulShutdown()
                let answers = try Self.responses(in: await received)
                #expect(answers.count == 2000)
                #expect(answers.allSatisfy { id, response in response == .scores(expected[id] ?? []) })
                socket.close()  // the server closes once the client has: run() returns
                try await group.waitForAll()
            }
        }
        #expect(!server.isAccepting)
        await #expect(throws: (any Error).self) {
            try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        }
    }

    @Test func requestsArrivingAfterTheDrainSeeEndOfStreamNotAReset() async throws {
        // A fully closed socket answers late bytes with a reset, and a reset makes the client's kernel drop the
        // answers it has received but not yet read. A drained connection closes only its output and keeps reading
        // until the client hangs up: the unread answer survives, and the request that crossed the close meets an
        // end of stream. (Against a plain close this test fails with ECONNRESET.)
        let server = try await Self.startServer()
        let socket = try RawSocket(port: server.port)
        defer { socket.close() }
        var ping = ByteBuffer()
        RequestCodec.encode(.ping, requestID: 1, into: &ping)
        let pingBytes = Array(ping.readableBytesView)
        // One exchange first: until the server has accepted the connection, closing its listener would reset it.
        try socket.send(pingBytes)
        #expect(try Self.responses(in: socket.receive()).map(\.1) == [.pong])
        try socket.send(pingBytes)  // answered, but the answer is left unread for now
        let shutdown = Task { await server.shutdown(timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(300))  // the connection is quiet: the server ends it
        try socket.send(pingBytes)  // crosses the close
        try await Task.sleep(for: .milliseconds(100))
        var received: [UInt8] = []
        while case let chunk = try socket.receive(), !chunk.isEmpty { received += chunk }
        #expect(try Self.responses(in: received).map(\.1) == [.pong])  // the first answer, then end of stream
        socket.close()
        await shutdown.value
        #expect(server.openConnections == 0)
    }

    static func fingerprint(port: Int) async throws -> UInt64 {
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: port)
        let fingerprint = try await client.modelInfo("conv").fingerprint
        try await client.close()
        return fingerprint
    }

    /// Splits a byte stream into response frames, by request id.
    static func responses(in bytes: [UInt8]) throws -> [(UInt32, Response)] {
        var buffer = ByteBuffer(bytes: bytes)
        var out: [(UInt32, Response)] = []
        while let frame = try FrameSplitter.next(from: &buffer, maxFrameBytes: 1 << 30) {
            out.append((frame.requestID, try ResponseCodec.decode(frame)))
        }
        #expect(buffer.readableBytes == 0, "a truncated frame at the end of the stream")
        return out
    }

    @Test func watcherPicksUpNewAndRemovedFilesAndStopsOnShutdown() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("propensity-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PropensityModelFileBridge.save(ServerTests.model, to: dir + "/a.model")
        let registry = ModelRegistry()
        let watcher = ModelDirectoryWatcher(
            directory: dir, registry: registry, metrics: ServerMetrics(), interval: .milliseconds(20),
            logger: Logger(label: "test"))
        #expect(watcher.reload(trigger: "start").loaded.map { $0.hasPrefix("a@") } == [true])
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watcher.run() }
                try PropensityModelFileBridge.save(ServerTests.model, to: dir + "/b.model")
                for _ in 0..<200 where registry.model(named: "b") == nil { try await Task.sleep(for: .milliseconds(10)) }
                #expect(registry.model(named: "b") != nil)
                try FileManager.default.removeItem(atPath: dir + "/a.model")
                for _ in 0..<200 where registry.model(named: "a") != nil { try await Task.sleep(for: .milliseconds(10)) }
                #expect(registry.model(named: "a") == nil)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()  // run() returns once shutdown begins
            }
        }
    }

    @Test func poolSpreadsRequestsOverItsConnections() async throws {
        let server = try await Self.startServer()
        var configuration = PropensityClientPool.Configuration(host: "127.0.0.1", port: server.port)
        configuration.connections = 3
        let pool = PropensityClientPool(configuration)
        let fingerprint = try await pool.modelInfo("conv").fingerprint
        let scorer = Scorer(model: ServerTests.model)
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
