import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import PropensityClient
import PropensityModel
import PropensityModelFile
import PropensityProtocol
import PropensityServer
import PropensityTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The cases of the adversarial pass (issue 11), one test per numbered finding, each failing before its fix.
@Suite(.serialized) struct HardeningTests {
    static let model = TestModels.logistic

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("propensity-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    // 1. Two files that provide one name@version are one entry; removing either keeps the other serving.
    @Test func removingASecondCopyKeepsTheModelServing() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ModelFile.save(Self.model, to: dir + "/lr.model")
        let registry = ModelRegistry()
        try registry.loadDirectory(dir)
        let version = try #require(registry.model(named: "lr")).version
        try FileManager.default.copyItem(atPath: dir + "/lr.model", toPath: dir + "/lr@\(version).model")
        let second = try registry.loadDirectory(dir)
        #expect(second.loaded.isEmpty && second.removed.isEmpty && second.failures.isEmpty)
        #expect(registry.all.map(\.key) == ["lr@\(version)"])
        try FileManager.default.removeItem(atPath: dir + "/lr@\(version).model")
        let third = try registry.loadDirectory(dir)
        #expect(third.removed.isEmpty)
        #expect(registry.model(named: "lr")?.path == dir + "/lr.model")
        // And the other way round: the copy outlives the original.
        try FileManager.default.copyItem(atPath: dir + "/lr.model", toPath: dir + "/lr@\(version).model")
        try registry.loadDirectory(dir)
        try FileManager.default.removeItem(atPath: dir + "/lr.model")
        #expect(try registry.loadDirectory(dir).removed.isEmpty)
        #expect(registry.model(named: "lr@\(version)")?.path == dir + "/lr@\(version).model")
    }

    // 2. The metrics port closes idle and half-sent requests, honours `Connection: close` and caps connections.
    @Test func metricsPortHasTimeoutsAndACap() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.maxConnections = 3
        limits.requestTimeout = .milliseconds(300)
        let server = try await MetricsHTTPServer.start(
            host: "127.0.0.1", port: 0, limits: limits, metrics: { Array("m 1\n".utf8) }, notReadyReason: { nil })
        defer { Task { try? await server.close() } }
        let port = server.port
        try await onThread {
            let idle = try RawSocket(port: port, timeoutSeconds: 3)
            let half = try RawSocket(port: port, timeoutSeconds: 3)
            try half.send(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8))
            let third = try RawSocket(port: port, timeoutSeconds: 3)
            // Admission is counted on each connection's event loop: wait until all three are counted.
            for _ in 0..<200 where server.openConnections < 3 { usleep(5_000) }
            // Over the cap: closed at once, without an answer.
            let over = try RawSocket(port: port, timeoutSeconds: 3)
            #expect(try over.receive().isEmpty)
            over.close()
            // `Connection: close`: one answer, then end of stream.
            try third.send(Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            var reply: [UInt8] = []
            do {
                while case let chunk = try third.receive(), !chunk.isEmpty { reply += chunk }
            } catch { Issue.record("receive: \(error)") }
            #expect(String(decoding: reply, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK"))
            #expect(String(decoding: reply, as: UTF8.self).contains("Connection: close"))
            // The idle and the half-sent connection are closed by the request timeout (the read sees end of stream).
            #expect(try idle.receive().isEmpty)
            #expect(try half.receive().isEmpty)
            idle.close()
            half.close()
            third.close()
        }
        // Room again once they closed.
        try await Task.sleep(for: .milliseconds(100))
        #expect(server.openConnections == 0)
    }

    // 3. The connection limit is fitted to the descriptor limit.
    @Test func connectionLimitFitsTheDescriptorLimit() {
        #expect(DescriptorBudget.plan(requested: 4096, metricsConnections: 16, softLimit: 256) == 154)
        #expect(DescriptorBudget.plan(requested: 100, metricsConnections: 16, softLimit: 1_048_576) == 100)
        #expect(DescriptorBudget.plan(requested: 4096, metricsConnections: 0, softLimit: 10) == 1)
        let fitted = DescriptorBudget.fit(requested: 1 << 30, metricsConnections: 16)
        #expect(fitted.maxConnections < fitted.softLimit && fitted.lowered)
    }

    // 4. A huge file is refused from its header and size, before it is read.
    @Test func hugeFilesAreRefusedBeforeTheyAreRead() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var header = ModelFile.magic + [1, 0, 1, 0, 3, 0, 0, 0]
        let size: UInt64 = 2 << 30
        withUnsafeBytes(of: size.littleEndian) { header += $0 }
        for (name, bytes) in [("huge0", header), ("junk", [UInt8](repeating: 0x41, count: 24))] {
            let path = dir + "/\(name).model"
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            #expect(truncate(path, off_t(size)) == 0)  // sparse: no disk used
        }
        try ModelFile.save(Self.model, to: dir + "/lr.model")
        let registry = ModelRegistry(maxFileBytes: 1 << 20)
        let report = try registry.loadDirectory(dir)
        #expect(report.loaded == [registry.model(named: "lr")!.key])
        let reasons = Dictionary(uniqueKeysWithValues: report.failures.map { (($0.path as NSString).lastPathComponent, $0.reason) })
        #expect(reasons["huge0.model"] == .file(.tooLarge(bytes: Int(size), limit: 1 << 20)))
        #expect(reasons["junk.model"] == .file(.tooLarge(bytes: Int(size), limit: 1 << 20)))
        // Under the default limit the header decides: a file of another kind is refused after 24 bytes.
        #expect(throws: ModelFileError(file: dir + "/junk.model", reason: .notAModelFile)) {
            _ = try ModelFile.read(dir + "/junk.model", maxBytes: Int(size))
        }
    }

    // 5. Wrong tokens: the connection closes after three, an address is blocked after its limit, and the audit log
    // gets one line per address and interval, plus a count.
    @Test func tokenGuessingIsBoundedAndItsLogAggregated() async throws {
        let lines = LogRecorder()
        var options = ServerOptions()
        options.token = Array("correct horse battery staple".utf8)
        options.auth.failuresPerAddress = 6
        options.auth.logInterval = .seconds(60)  // the aggregation itself is tested with explicit times below
        let registry = ModelRegistry()
        registry.add(Self.model, name: "conv")
        let server = try await ScoringServer.start(
            host: "127.0.0.1", port: 0, registry: registry, options: options, logger: lines.logger)
        let port = server.port
        let wrong = authFrames(token: "guess", count: 10)
        // One connection sends ten wrong AUTHs at once: three answers, then the server closes.
        let reply = try await onThread { try rawExchange(port: port, send: wrong, expect: 10) }
        #expect(countFrames(reply) == 3)
        #expect(try await onThread { try rawExchange(port: port, send: authFrames(token: "guess", count: 3), expect: 3) }.count > 0)
        // Six failures from this address: now even the right token is refused without being compared.
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: port)
        await expectServerError(.unauthorized) { _ = try await client.send(.auth(token: options.token!)) }
        try? await client.close()
        let audit = lines.messages.filter { $0.hasPrefix("audit: authentication refused") }
        #expect(audit.count == 1, "seven refusals, one line until the interval ends: \(audit)")
        #expect(lines.rendered.allSatisfy { !$0.contains("127.0.0.1") }, "addresses are logged as pseudonyms")
        try await server.close()
    }

    @Test func authAuditLinesAreAggregatedPerInterval() {
        let lines = LogRecorder()
        var settings = AuthGuard.Settings()
        settings.failuresPerAddress = 4
        let guardian = AuthGuard(settings: settings, logger: lines.logger)
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        for i in 0..<4 { guardian.recordFailure(from: "10.0.0.1", blocked: false, now: start + .milliseconds(Int64(i))) }
        guardian.recordFailure(from: "10.0.0.2", blocked: false, now: start)
        #expect(lines.messages.count == 2)  // the first of each address
        #expect(guardian.verdict(for: "10.0.0.1", now: start + .seconds(1)) == .blocked)
        #expect(guardian.verdict(for: "10.0.0.2", now: start + .seconds(1)) == .check)
        guardian.flush(now: start + .seconds(5))  // the interval has not ended: nothing yet
        #expect(lines.messages.count == 2)
        guardian.flush(now: start + .seconds(11))
        #expect(lines.messages.count == 3 && lines.metadata.last?["count"] == "3")
        #expect(lines.metadata.last?["client"] == guardian.pseudonym("10.0.0.1"))
        // The window over, the address may try again.
        #expect(guardian.verdict(for: "10.0.0.1", now: start + .seconds(61)) == .check)
    }

    // 5b. A wrong AUTH after a good one ends the authentication.
    @Test func aWrongTokenAfterAGoodOneDeauthenticates() async throws {
        var options = ServerOptions()
        options.token = Array("correct horse battery staple".utf8)
        let server = try await TestServer.start(options: options)
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        _ = try await client.send(.auth(token: options.token!))
        try await client.ping()
        await expectServerError(.unauthorized) { _ = try await client.send(.auth(token: Array("nope".utf8))) }
        await expectServerError(.unauthorized) { try await client.ping() }
        try await client.close()
        try await server.close()
    }

    // 7. TLS 1.0 and 1.1 are refused; 1.3 is what a current client gets.
    @Test func tlsBelowVersion12IsRefused() async throws {
        func client(_ version: TLSVersion, port: Int) async throws -> PropensityClient {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(TLSTests.fixture("test-cert.pem")))
            configuration.minimumTLSVersion = version
            configuration.maximumTLSVersion = version
            return try await PropensityClient.connect(
                host: "localhost", port: port, token: nil, tls: try NIOSSLContext(configuration: configuration))
        }
        // Control: a server context that allows TLS 1.0 completes a TLS 1.1 handshake with this client, so the
        // refusal below is the server's doing, not the client library's.
        var permissive = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(TLSTests.fixture("test-cert.pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: TLSTests.fixture("test-key.pem"), format: .pem)))
        permissive.minimumTLSVersion = .tlsv1
        var controlOptions = ServerOptions()
        controlOptions.tls = try NIOSSLContext(configuration: permissive)
        let control = try await TestServer.start(options: controlOptions)
        let accepted = try await client(.tlsv11, port: control.port)
        try await accepted.ping()
        try await accepted.close()
        try await control.close()

        var options = ServerOptions()
        options.tls = try ScoringServer.tlsContext(
            certificate: TLSTests.fixture("test-cert.pem"), key: TLSTests.fixture("test-key.pem"))
        let server = try await TestServer.start(options: options)
        for version in [TLSVersion.tlsv1, .tlsv11] {
            let old = try await client(version, port: server.port)
            await #expect(throws: (any Error).self) { _ = try await old.send(.ping, timeout: .seconds(3)) }
            try? await old.close()
        }
        let current = try await client(.tlsv13, port: server.port)
        try await current.ping()
        try await current.close()
        let twelve = try await client(.tlsv12, port: server.port)
        try await twelve.ping()
        try await twelve.close()
        try await server.close()
    }

    // 8. Over TLS, the connection-limit refusal arrives inside TLS, where the client can read it.
    @Test func theConnectionLimitRefusalTravelsInsideTLS() async throws {
        var options = ServerOptions()
        options.limits.maxConnections = 1
        // Generous deadlines: other suites load the shared event loops meanwhile (5 s once ran out in CI).
        options.limits.frameTimeout = .seconds(30)
        options.tls = try ScoringServer.tlsContext(
            certificate: TLSTests.fixture("test-cert.pem"), key: TLSTests.fixture("test-key.pem"))
        let server = try await TestServer.start(options: options)
        let tls = try ClientTLS.context(caFile: TLSTests.fixture("test-cert.pem"))
        let first = try await PropensityClient.connect(host: "localhost", port: server.port, token: nil, tls: tls)
        try await first.ping()
        let second = try await PropensityClient.connect(host: "localhost", port: server.port, token: nil, tls: tls)
        await expectServerError(.overloaded) { _ = try await second.send(.ping, timeout: .seconds(30)) }
        try? await second.close()
        try await first.close()
        try await server.close()
    }

    // 9. An ERROR never splits a character and never echoes a long input.
    @Test func errorMessagesAreShortAndValidUTF8() async throws {
        let server = try await TestServer.start()
        let name = String(repeating: "é", count: 32767)
        var frame = ByteBuffer()
        RequestCodec.encode(.modelInfo(model: name), requestID: 7, into: &frame)
        let bytes = Array(frame.readableBytesView)
        let reply = try await onThread { [port = server.port] in try rawExchange(port: port, send: bytes) }
        #expect(reply.count > 12 && reply[5] == Opcode.error.rawValue)
        let messageLength = Int(reply[14]) | Int(reply[15]) << 8
        let message = Array(reply[16..<(16 + messageLength)])
        #expect(String(validating: message, as: UTF8.self) != nil)
        #expect(messageLength < 200)
        // The encoder itself cuts on a character boundary.
        var long = ByteBuffer()
        long.writeShortString(String(repeating: "é", count: 40000))
        let count = Int(long.readInteger(endianness: .little, as: UInt16.self)!)
        #expect(count == 65534)
        #expect(String(validating: long.readBytes(length: count)!, as: UTF8.self) != nil)
        try await server.close()
    }

    // 10. ±inf features are refused (code 14), for every model kind; NaN stays "missing".
    @Test func infiniteFeaturesAreRefused() async throws {
        let server = try await TestServer.start(models: ["conv": TestModels.logistic, "trees": TestModels.trees])
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        for name in ["conv", "trees"] {
            let info = try await client.modelInfo(name)
            let width = info.schema.count
            for bad in [Float.infinity, -.infinity] {
                var rows = [Float](repeating: 1, count: width * 3)
                rows[width + 1] = bad
                await expectServerError(.infiniteFeature) {
                    _ = try await client.score(model: name, fingerprint: info.fingerprint, featureCount: width, features: rows)
                }
            }
            let scores = try await client.score(
                model: name, fingerprint: info.fingerprint, featureCount: width, features: [Float](repeating: .nan, count: width))
            #expect(scores.count == 1 && scores[0].isFinite)
        }
        try await client.close()
        try await server.close()
    }

    // 13. Odd file names are refused with a reason, and what is logged cannot forge a line.
    @Test func oddFileNamesAreRefusedAndCannotForgeLogLines() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = ModelFile.encode(Self.model)
        let names = ["a\nb audit: model loaded.model", ".model", "..model", "@v.model", "x@.model", "x@1@2.model", "ok@1.model"]
        for name in names { _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(model)) }
        // A name that is not UTF-8.
        let raw: [UInt8] = Array((dir + "/bad").utf8) + [0xFF, 0xFE] + Array(".model".utf8) + [0]
        let fd = raw.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) }
        #expect(fd >= 0)
        close(fd)
        let lines = LogRecorder()
        let registry = ModelRegistry()
        let watcher = ModelDirectoryWatcher(
            directory: dir, registry: registry, metrics: ServerMetrics(), interval: nil, logger: lines.logger)
        let report = watcher.reload(trigger: "start")
        #expect(registry.all.map(\.key) == ["ok@1"])
        let reasons = Dictionary(uniqueKeysWithValues: report.failures.map { (($0.path as NSString).lastPathComponent, $0.reason) })
        #expect(reasons["a\nb audit: model loaded.model"] == .invalidFileName(.controlCharacter))
        #expect(reasons[".model"] == .invalidFileName(.emptyName))
        #expect(reasons["..model"] == .invalidFileName(.hidden))
        #expect(reasons["@v.model"] == .invalidFileName(.emptyName))
        #expect(reasons["x@.model"] == .invalidFileName(.emptyVersion))
        #expect(reasons["x@1@2.model"] == .invalidFileName(.secondAt))
        #expect(reasons["bad\\xff\\xfe.model"] == .fileNameNotUTF8)
        #expect(report.failures.allSatisfy { $0.keptServing == nil })
        // Every log line is one line, and none claims "previous version" for files that never served.
        #expect(lines.rendered.allSatisfy { !$0.contains("\n") })
        #expect(!lines.messages.contains { $0.contains("previous version") })
        // Unchanged, nothing is reported again (the non-UTF-8 name included).
        #expect(watcher.reload(trigger: "file change").failures.isEmpty)
    }

    // 13b. A missing directory is logged once, then again when it changes.
    @Test func aMissingDirectoryIsLoggedOnce() throws {
        let dir = try Self.temporaryDirectory()
        try FileManager.default.removeItem(atPath: dir)
        let lines = LogRecorder()
        let watcher = ModelDirectoryWatcher(
            directory: dir, registry: ModelRegistry(), metrics: ServerMetrics(), interval: nil, logger: lines.logger)
        for _ in 0..<5 { watcher.reload(trigger: "file change") }
        #expect(lines.messages.filter { $0.contains("cannot read the model directory") }.count == 1)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        watcher.reload(trigger: "file change")
        #expect(lines.messages.last?.contains("readable again") == true)
    }
}

/// `count` AUTH frames carrying `token`.
func authFrames(token: String, count: Int) -> [UInt8] {
    var buffer = ByteBuffer()
    for id in 0..<count { RequestCodec.encode(.auth(token: Array(token.utf8)), requestID: UInt32(id + 1), into: &buffer) }
    return Array(buffer.readableBytesView)
}

/// Keeps what a logger writes, for tests of what reaches the log.
final class LogRecorder: Sendable {
    private let entries = NIOLockedValueBox<[(String, Logger.Metadata)]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(recorder: self) }
    }

    var messages: [String] { entries.withLockedValue { $0.map(\.0) } }
    var metadata: [[String: String]] {
        entries.withLockedValue { $0.map { $0.1.mapValues { "\($0)" } } }
    }
    /// Each entry as a text log handler would print it.
    var rendered: [String] {
        entries.withLockedValue { $0.map { message, metadata in
            message + " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        } }
    }

    fileprivate func record(_ message: String, _ metadata: Logger.Metadata) {
        entries.withLockedValue { $0.append((message, metadata)) }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            recorder.record("\(event.message)", metadata.merging(event.metadata ?? [:]) { $1 })
        }
    }
}
