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
import PropensityTestSupport
import Testing

/// Graceful shutdown under swift-service-lifecycle, and the directory watcher's lifecycle.
@Suite(.serialized) struct LifecycleTests {
    static func startServer(port: Int = 0) async throws -> ScoringServer { try await TestServer.start(port: port) }

    static func row(_ i: Int) -> [Float] { TestModels.row(i) }

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
        // The connection is quiet, so the server ends it (a fixed sleep here was too short on a loaded machine). The
        // wait may last as long as the drain may (10 s): with the suite's heavy tests beside it, 5 s once ran out.
        #expect(try await onThread { socket.waitForPeerHalfClose(timeoutMilliseconds: 15_000) })
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
}
