import Foundation
import NIOCore
import NIOEmbedded
import PropensityClient
import PropensityData
import PropensityModel
import PropensityProtocol
import PropensityScoring
@testable import PropensityServer
import PropensityTestSupport
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

    /// The server's handler splits frames off its receive buffer itself: the same pipelined stream cut into random
    /// pieces (down to single bytes) gets the same answers, in order, as when it arrives whole.
    @Test func handlerAnswersTheSameWhateverTheReadBoundaries() throws {
        let registry = ModelRegistry()
        registry.add(ServerTests.model, name: "conv")
        let fingerprint = registry.model(named: "conv")!.fingerprint
        var rng = SplitMix64(seed: 5)
        var stream = ByteBuffer()
        for id in 1...400 {
            let rows = 1 + rng.nextInt(below: 4)
            let features = (0..<(rows * 3)).map { _ in Float(rng.nextInt(below: 50)) }
            let request: Request = switch id % 5 {
            case 0: .ping
            case 1: .score(ScoreRequest(model: "conv", fingerprint: fingerprint ^ 1, rowCount: rows, featureCount: 3, features: features))
            case 2: .modelInfo(model: "nope")
            default: .score(ScoreRequest(model: "conv", fingerprint: fingerprint, rowCount: rows, featureCount: 3, features: features))
            }
            RequestCodec.encode(request, requestID: UInt32(id), into: &stream)
        }
        func answers(chunks: [Int]) throws -> [[UInt8]] {
            let channel = EmbeddedChannel(handler: ScoringHandler(
                registry: registry, limits: ServerLimits(), token: nil, metrics: ServerMetrics(), logger: .init(label: "test")))
            var input = stream
            for size in chunks {
                guard input.readableBytes > 0 else { break }
                try channel.writeInbound(input.readSlice(length: min(size, input.readableBytes))!)
                channel.pipeline.fireChannelReadComplete()
            }
            var out = ByteBuffer()
            while var part = try channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&part) }
            var frames: [[UInt8]] = []
            while let frame = try FrameSplitter.next(from: &out, maxFrameBytes: 1 << 20) {
                var whole = ByteBuffer()
                whole.writeMultipleIntegers(frame.opcode, frame.requestID)
                var payload = frame.payload
                whole.writeBuffer(&payload)
                frames.append(Array(whole.readableBytesView))
            }
            #expect(out.readableBytes == 0)
            _ = try channel.finish()
            return frames
        }
        let whole = try answers(chunks: [stream.readableBytes])
        #expect(whole.count == 400)
        for trial in 0..<20 {
            let maxChunk = trial < 5 ? 1 : 1 + rng.nextInt(below: 200)
            let chunks = (0..<stream.readableBytes).map { _ in 1 + rng.nextInt(below: maxChunk) }
            #expect(try answers(chunks: chunks) == whole)
        }
    }

    /// Pipelined single-row requests to a tree model are gathered and scored as one batch: every answer has the bits
    /// that scoring its row alone gives, in request order, whatever the burst size.
    @Test func batchedSingleRowsScoreTheSameBitsAsAlone() throws {
        // 40 complete trees of depth 5 over 6 features, thresholds and leaves from a seeded generator.
        var rng = SplitMix64(seed: 11)
        let width = 6
        let trees = (0..<40).map { _ in
            let splits = 31
            let nodes = (0..<splits).map { i in
                let (left, right) = (2 * i + 1, 2 * i + 2)
                return DecisionTree.Node(
                    feature: Int32(rng.nextInt(below: width)), kind: .numeric, defaultLeft: rng.nextUnit() < 0.5,
                    threshold: Float(rng.nextGaussian()),
                    left: left < splits ? Int32(left) : ~Int32(left - splits),
                    right: right < splits ? Int32(right) : ~Int32(right - splits))
            }
            return DecisionTree(nodes: nodes, leafValues: (0..<32).map { _ in rng.nextGaussian() }, categoryWords: [])
        }
        let schema = FeatureSchema(features: (0..<width).map { .numeric("f\($0)") })
        let model = Model(
            body: .treeEnsemble(TreeEnsembleModel(
                schema: schema, baseScore: 0.1, trees: trees,
                importance: Array(repeating: FeatureImportance(gain: 0, splits: 0), count: width))),
            metadata: ModelMetadata(properties: []))
        let registry = ModelRegistry()
        registry.add(model, name: "trees")
        let served = registry.model(named: "trees")!
        #expect(served.scorer.batchingPays != nil)
        let scorer = Scorer(model: model)
        for burst in [1, 15, 16, 17, 64, 65, 200] {
            let rows = (0..<burst).map { _ in (0..<width).map { _ in rng.nextUnit() < 0.1 ? Float.nan : Float(rng.nextGaussian()) } }
            var stream = ByteBuffer()
            for (i, row) in rows.enumerated() {
                RequestCodec.encode(
                    .score(ScoreRequest(model: "trees", fingerprint: served.fingerprint, rowCount: 1, featureCount: width, features: row)),
                    requestID: UInt32(i + 1), into: &stream)
            }
            let channel = EmbeddedChannel(handler: ScoringHandler(
                registry: registry, limits: ServerLimits(), token: nil, metrics: ServerMetrics(), logger: .init(label: "test")))
            try channel.writeInbound(stream)
            channel.pipeline.fireChannelReadComplete()
            var out = ByteBuffer()
            while var part = try channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&part) }
            var answers: [(UInt32, Float)] = []
            while let frame = try FrameSplitter.next(from: &out, maxFrameBytes: 1 << 20) {
                guard case .scores(let scores) = try ResponseCodec.decode(frame), scores.count == 1 else {
                    Issue.record("burst \(burst): not a one-score answer")
                    break
                }
                answers.append((frame.requestID, scores[0]))
            }
            #expect(answers.map(\.0) == (1...burst).map(UInt32.init), "burst \(burst): answers in request order")
            #expect(answers.map(\.1.bitPattern) == rows.map { scorer.score($0)[0].bitPattern }, "burst \(burst)")
            _ = try channel.finish()
        }
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
