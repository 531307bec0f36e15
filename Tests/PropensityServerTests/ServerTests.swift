import Foundation
import NIOCore
import PropensityClient
import PropensityModel
import PropensityProtocol
import PropensityScoring
import PropensityServer
import PropensityTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ServerTests {
    static let model = TestModels.logistic

    func withServer(
        limits: ServerLimits = ServerLimits(), _ body: (ScoringServer, PropensityClient) async throws -> Void
    ) async throws {
        let registry = ModelRegistry()
        registry.add(Self.model, name: "conv")
        let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry, limits: limits)
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        do {
            try await body(server, client)
        } catch {
            try? await client.close()
            try? await server.close()
            throw error
        }
        try await client.close()
        try await server.close()
    }

    @Test func pingListInfoAndScore() async throws {
        try await withServer { server, client in
            try await client.ping()
            let list = try await client.listModels()
            #expect(list.map(\.name) == ["conv@1"])
            let info = try await client.modelInfo("conv")
            #expect(info.schema == Self.model.schema)
            #expect(info.version == "1")
            let rows: [Float] = [35, 0, 3, .nan, 1, 1, 50, 7, .nan, 20, .nan, 2]
            let scores = try await client.score(model: "conv", fingerprint: info.fingerprint, featureCount: 3, features: rows)
            #expect(scores == Scorer(model: Self.model).score(rows))
            // Double-precision reference, to float rounding.
            for r in 0..<4 {
                let expected = LogisticRegressionModel.probabilityOf(Self.model, (0..<3).map { Double(rows[r * 3 + $0]) })
                #expect(abs(Double(scores[r]) - expected) < 1e-6)
            }
        }
    }

    @Test func badRequestsFailAloneAndTheConnectionKeepsServing() async throws {
        try await withServer { _, client in
            let info = try await client.modelInfo("conv")
            await expectServerError(.unknownModel) { _ = try await client.modelInfo("nope") }
            await expectServerError(.schemaMismatch) {
                _ = try await client.score(model: "conv", fingerprint: info.fingerprint ^ 1, featureCount: 3, features: [1, 2, 3])
            }
            await expectServerError(.wrongFeatureCount) {
                _ = try await client.score(model: "conv", fingerprint: info.fingerprint, featureCount: 2, features: [1, 2])
            }
            let ok = try await client.score(model: "conv", fingerprint: info.fingerprint, featureCount: 3, features: [1, 0, 2])
            #expect(ok.count == 1)
        }
    }

    @Test func rowLimit() async throws {
        var limits = ServerLimits()
        limits.maxRowsPerRequest = 2
        try await withServer(limits: limits) { _, client in
            let info = try await client.modelInfo("conv")
            await expectServerError(.tooManyRows) {
                _ = try await client.score(model: "conv", fingerprint: info.fingerprint, featureCount: 3, features: [Float](repeating: 1, count: 9))
            }
        }
    }

    @Test func pipelinedRequestsAreMatchedById() async throws {
        try await withServer { _, client in
            let info = try await client.modelInfo("conv")
            let scorer = Scorer(model: Self.model)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        let rows: [Float] = [Float(i), Float(i % 2), Float(i % 5)]
                        let got = try await client.score(model: "conv", fingerprint: info.fingerprint, featureCount: 3, features: rows)
                        #expect(got == scorer.score(rows))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func oversizedAndGarbageFramesCloseOnlyThatConnection() async throws {
        var limits = ServerLimits()
        limits.maxFrameBytes = 1024
        try await withServer(limits: limits) { server, client in
            // A frame announcing 1 MiB: ERROR frame (code 3, request id 0), then close.
            let port = server.port
            let reply = try await onThread {
                try rawExchange(port: port, send: [0, 0, 16, 0] + [UInt8](repeating: 0, count: 16))
            }
            #expect(reply.count >= 14)
            #expect(Array(reply[4..<6]) == [1, Opcode.error.rawValue])
            #expect(Array(reply[6..<12]) == [0, 0, 0, 0, 0, 0])
            #expect(reply[12] == UInt8(ErrorCode.frameTooLarge.rawValue))
            // A length shorter than the header.
            let short = try await onThread { try rawExchange(port: port, send: [3, 0, 0, 0, 1, 1, 0]) }
            #expect(short.count > 12 && short[12] == UInt8(ErrorCode.malformedFrame.rawValue))
            // The well-behaved client is unaffected.
            try await client.ping()
        }
    }

    @Test func unknownOpcodeGetsAnErrorFrameAndTheConnectionStaysOpen() async throws {
        try await withServer { server, _ in
            // Unknown opcode 0x42 (id 5), then a PING (id 6) on the same connection.
            let bytes: [UInt8] = [8, 0, 0, 0, 1, 0x42, 0, 0, 5, 0, 0, 0] + [8, 0, 0, 0, 1, 0x01, 0, 0, 6, 0, 0, 0]
            let reply = try await onThread { [port = server.port] in
                try rawExchange(port: port, send: bytes, expect: 2)
            }
            #expect(reply[5] == Opcode.error.rawValue && reply[8] == 5)
            let second = Array(reply[(4 + Int(reply[0]))...])
            #expect(second[5] == Opcode.pong.rawValue && second[8] == 6)
        }
    }

    @Test func failedReloadKeepsThePreviousModel() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("propensity-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let registry = ModelRegistry()
        try PropensityModelFileBridge.save(Self.model, to: dir + "/conv.model")
        #expect(try registry.loadDirectory(dir).failures.isEmpty)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: dir + "/conv.model"))
        try Data("junk".utf8).write(to: URL(fileURLWithPath: dir + "/other.model"))
        let report = try registry.loadDirectory(dir)
        #expect(report.failures.count == 2)
        #expect(registry.model(named: "conv")?.model == Self.model)
        #expect(registry.model(named: "other") == nil)
        // Unchanged files are not read again.
        #expect(try registry.loadDirectory(dir).isEmpty)
    }

    @Test func versionsAndRemoval() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("propensity-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var older = Self.model
        older.metadata = ModelMetadata(properties: [("created", "2026-01-01T00:00:00Z")])
        var newer = Self.model
        newer.metadata = ModelMetadata(properties: [("created", "2026-02-01T00:00:00Z")])
        try PropensityModelFileBridge.save(older, to: dir + "/conv@1.model")
        try PropensityModelFileBridge.save(newer, to: dir + "/conv@2.model")
        let registry = ModelRegistry()
        #expect(try registry.loadDirectory(dir).loaded.sorted() == ["conv@1", "conv@2"])
        #expect(registry.model(named: "conv")?.version == "2")
        #expect(registry.model(named: "conv@1")?.version == "1")
        try FileManager.default.removeItem(atPath: dir + "/conv@2.model")
        #expect(try registry.loadDirectory(dir).removed == ["conv@2"])
        #expect(registry.model(named: "conv")?.version == "1")
        #expect(registry.model(named: "conv@2") == nil)
    }

    /// A model file rewritten (write, then rename) every 20 ms while clients score: every answer comes from one of
    /// the two versions, never a failure or a mix.
    @Test func reloadWhileScoring() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("propensity-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard case .logisticRegression(var lr) = Self.model.body else { return }
        lr.intercept = 1.5
        let other = Model(body: .logisticRegression(lr), metadata: ModelMetadata(properties: [("created", "b")]))
        try PropensityModelFileBridge.save(Self.model, to: dir + "/conv.model")
        let registry = ModelRegistry()
        try registry.loadDirectory(dir)
        let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry)
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        let fingerprint = try await client.modelInfo("conv").fingerprint
        let row: [Float] = [41, 1, 3]
        let allowed = [Scorer(model: Self.model).score(row)[0], Scorer(model: other).score(row)[0]]
        let stop = NIOLockedValueBoxBridge()
        let writer = Task.detached {
            var flip = false
            while !stop.isSet {
                try PropensityModelFileBridge.save(flip ? Self.model : other, to: dir + "/conv.model")
                try registry.loadDirectory(dir)
                stop.count()
                flip.toggle()
                try await Task.sleep(nanoseconds: 20_000_000)
            }
        }
        // Ends on work done, not on elapsed time: a loaded CI machine may score slowly, but must not score wrongly.
        var answers = 0
        var seen = Set<Float>()
        let deadline = Date().addingTimeInterval(60)
        while (answers < 200 || stop.counted < 20 || seen.count < 2) && Date() < deadline {
            let score = try await client.score(model: "conv", fingerprint: fingerprint, featureCount: 3, features: row)
            #expect(allowed.contains(score[0]))
            seen.insert(score[0])
            answers += 1
        }
        stop.set()
        try await writer.value
        #expect(answers >= 200)
        #expect(stop.counted >= 20)
        #expect(seen.count == 2, "answers came from both versions")
        try await client.close()
        try await server.close()
    }

    @Test func tokenIsRequiredBeforeAnyRequest() async throws {
        let registry = ModelRegistry()
        registry.add(Self.model, name: "conv")
        var options = ServerOptions()
        options.token = Array("correct horse battery staple".utf8)
        let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry, options: options)
        let anonymous = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        await expectServerError(.unauthorized) { try await anonymous.ping() }
        await expectServerError(.unauthorized) { _ = try await anonymous.send(.auth(token: Array("wrong".utf8))) }
        await expectServerError(.unauthorized) {
            _ = try await anonymous.send(.auth(token: Array("correct horse battery staple and more".utf8)))
        }
        try await anonymous.close()
        let client = try await PropensityClient.connect(
            host: "127.0.0.1", port: server.port, token: Array("correct horse battery staple".utf8))
        try await client.ping()
        try await client.close()
        try await server.close()
    }

    @Test func stalledHalfFrameIsDroppedAndOthersAreServed() async throws {
        var limits = ServerLimits()
        limits.frameTimeout = .milliseconds(200)
        try await withServer(limits: limits) { server, client in
            // Half of a PING frame, then silence: the server must close the connection, not wait forever.
            let start = Date()
            let reply = try await onThread { [port = server.port] in
                try rawExchange(port: port, send: [8, 0, 0, 0, 1], expect: 1)
            }
            #expect(reply.isEmpty)
            #expect(Date().timeIntervalSince(start) < 4)
            try await client.ping()
        }
    }

    @Test func connectionLimit() async throws {
        var limits = ServerLimits()
        limits.maxConnections = 2
        try await withServer(limits: limits) { server, client in
            // Admission is counted on each connection's event loop, not in connect order: an answered PING shows the
            // connection was counted (on a loaded machine the first client's count once came after the raw one's).
            try await client.ping()
            let second = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
            try await second.ping()
            let reply = try await onThread { [port = server.port] in try rawExchange(port: port, send: [], expect: 1) }
            #expect(reply.count > 12 && reply[12] == UInt8(ErrorCode.overloaded.rawValue))
            try await second.close()
            try await client.ping()
        }
    }
}

/// A flag shared with a detached task.
final class NIOLockedValueBoxBridge: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return flag }
    func set() { lock.lock(); flag = true; lock.unlock() }
    private var events = 0
    var counted: Int { lock.lock(); defer { lock.unlock() }; return events }
    func count() { lock.lock(); events += 1; lock.unlock() }
}

func expectServerError(_ code: ErrorCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected server error \(code)", sourceLocation: sourceLocation)
    } catch ClientError.server(let got, _) {
        #expect(got == code, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}

/// Sends raw bytes on a fresh blocking socket and reads `expect` frames (or until the server closes).
func rawExchange(port: Int, send bytes: [UInt8], expect frames: Int = 1, timeoutSeconds: Int = 5) throws -> [UInt8] {
    let socket = try RawSocket(port: port, timeoutSeconds: timeoutSeconds)
    defer { socket.close() }
    try? socket.send(bytes)  // the server may close before reading it all: what it answered is still read below
    var received: [UInt8] = []
    while countFrames(received) < frames {
        guard let chunk = try? socket.receive(), !chunk.isEmpty else { break }
        received += chunk
    }
    return received
}

func countFrames(_ bytes: [UInt8]) -> Int {
    var i = 0
    var count = 0
    while i + 4 <= bytes.count {
        let length = Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
        guard i + 4 + length <= bytes.count else { break }
        i += 4 + length
        count += 1
    }
    return count
}

extension LogisticRegressionModel {
    static func probabilityOf(_ model: Model, _ row: [Double]) -> Double {
        guard case .logisticRegression(let lr) = model.body else { return .nan }
        return lr.probability(row)
    }
}
