import Foundation
import NIOCore
import NIOEmbedded
import PropensityClient
import PropensityData
import PropensityModel
import PropensityProtocol
import PropensityScoring
import PropensityServer
import Testing

/// Random and mutated input: the decoder never crashes, and a live server keeps serving a well-behaved client.
@Suite(.serialized) struct FuzzTests {
    static func validFrames() -> [[UInt8]] {
        let requests: [Request] = [
            .ping, .listModels, .modelInfo(model: "conv"), .auth(token: Array("secret".utf8)),
            .score(ScoreRequest(model: "conv", fingerprint: 7, rowCount: 2, featureCount: 3, features: [1, 2, 3, 4, .nan, 6])),
        ]
        return requests.map { request in
            var b = ByteBuffer()
            RequestCodec.encode(request, requestID: 9, into: &b)
            return Array(b.readableBytesView)
        }
    }

    /// 100,000 random and mutated byte streams through the frame decoder and request codec.
    @Test func decoderSurvivesRandomAndMutatedFrames() throws {
        var rng = SplitMix64(seed: 77)
        let valid = Self.validFrames()
        var decodedFrames = 0
        var refused = 0
        for i in 0..<100_000 {
            var bytes: [UInt8]
            switch i % 4 {
            case 0:  // pure noise
                bytes = (0..<rng.nextInt(below: 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 1:  // a valid frame with a few bytes flipped
                bytes = valid[rng.nextInt(below: valid.count)]
                for _ in 0...rng.nextInt(below: 4) {
                    bytes[rng.nextInt(below: bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 2:  // truncated
                let frame = valid[rng.nextInt(below: valid.count)]
                bytes = Array(frame.prefix(rng.nextInt(below: frame.count)))
            default:  // a valid frame followed by noise
                bytes = valid[rng.nextInt(below: valid.count)]
                    + (0..<rng.nextInt(below: 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameBytes: 4096)))
            do {
                try channel.writeInbound(ByteBuffer(bytes: bytes))
                while let frame = try channel.readInbound(as: Frame.self) {
                    decodedFrames += 1
                    do { _ = try RequestCodec.decode(frame) } catch { refused += 1 }
                }
            } catch {
                refused += 1  // a framing error: the server answers it and closes the connection
            }
            _ = try? channel.finish()
        }
        #expect(decodedFrames > 10_000)
        #expect(refused > 10_000)
    }

    /// Noise from several connections while a client scores: every one of its answers is right.
    @Test func liveServerKeepsServingUnderGarbage() async throws {
        let registry = ModelRegistry()
        registry.add(ServerTests.model, name: "conv")
        var limits = ServerLimits()
        limits.maxFrameBytes = 4096
        limits.frameTimeout = .milliseconds(300)
        let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry, limits: limits)
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        let info = try await client.modelInfo("conv")
        let scorer = Scorer(model: ServerTests.model)
        let port = server.port
        let noise = Task.detached {
            var rng = SplitMix64(seed: 5)
            let valid = Self.validFrames()
            for i in 0..<300 {
                var bytes = (0..<(1 + rng.nextInt(below: 200))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if i % 3 == 0 { bytes = valid[i % valid.count] + bytes }
                if i % 5 == 0 { bytes = [255, 255, 255, 127] + bytes }  // an oversized length field
                if i % 7 == 0 { bytes[min(4, bytes.count - 1)] = 9 }  // a wrong version
                _ = try? rawExchange(port: port, send: bytes, expect: 1, timeoutSeconds: 1)
            }
        }
        var rng = SplitMix64(seed: 6)
        for _ in 0..<300 {
            let row: [Float] = [Float(rng.nextGaussian() * 10 + 40), Float(rng.nextInt(below: 3)), Float(rng.nextInt(below: 6))]
            let got = try await client.score(model: "conv", fingerprint: info.fingerprint, featureCount: 3, features: row)
            #expect(got == scorer.score(row))
        }
        await noise.value
        try await client.ping()
        try await client.close()
        try await server.close()
    }
}
