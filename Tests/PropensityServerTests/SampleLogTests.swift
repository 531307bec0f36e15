import Foundation
import Logging
import PropensityClient
import PropensityModel
import PropensityPrivacy
import PropensityScoring
import PropensityTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import PropensityServer

/// The sampled feed (`serve --sample-log`): pseudonyms only, lines in the model's schema, torn lines trimmed at
/// start, retention, and an unusable directory refused.
@Suite struct SampleLogTests {
    static let key = Pseudonymiser(key: Array("a sample-log key that is long enough".utf8))

    func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("propensity-feed-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func routedRequestsAreFedUnderPseudonymsOnly() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let registry = ModelRegistry()
        registry.add(TestModels.logistic, name: "conv")
        var options = ServerOptions()
        options.routes.install([Route(name: "checkout", salt: "s", variants: [.init(model: "conv", basisPoints: 10_000)], shadows: [])])
        let log = try SampleLog(
            settings: SampleLogSettings(directory: dir + "/feed", every: 2, retentionDays: nil, pseudonymiser: Self.key),
            logger: Logger(label: "test"))
        options.sampleLog = log
        let server = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry, options: options)
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        let fingerprint = try await client.modelInfo("conv").fingerprint
        let ids = (0..<40).map { "visitor-\($0)@example.com" }
        for (i, id) in ids.enumerated() {
            var row = TestModels.row(i)
            if i == 4 { row[0] = .nan }  // missing, written empty
            if i == 6 { row[1] = 7 }  // an unseen category
            _ = try await client.routeScore(route: "checkout", key: Array(id.utf8), fingerprint: fingerprint, featureCount: 3, features: row)
        }
        try await client.close()
        try await server.close()
        log.stop()

        let files = FeedFiles.list(dir + "/feed")
        #expect(files.count == 1 && files[0].contains("/conv@1/") && files[0].hasSuffix("-k\(Self.key.keyFingerprint).csv"))
        let lines = try String(contentsOfFile: files[0], encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "visitor,time,route,variant,age,device,visits,score")
        #expect(lines.last == "")
        let records = lines.dropFirst().dropLast().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(records.count == 20)  // every second request
        let scorer = Scorer(model: TestModels.logistic)
        for record in records {
            let i = try #require(ids.firstIndex { Self.key.pseudonym($0) == record[0] })
            #expect(i % 2 == 0 && record[2] == "checkout" && record[3] == "conv@1")
            var row = TestModels.row(i)
            if i == 4 { row[0] = .nan; #expect(record[4] == "") }
            if i == 6 { row[1] = 7; #expect(record[5] == "(unseen)") }
            #expect(Float(record[7]) == scorer.score(row)[0])
        }
        // No raw identifier anywhere on disk.
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for id in ids { #expect(!text.contains(id)) }
            #expect(!text.contains("example.com"))
        }
    }

    /// Routed infer requests of the Open Inference Protocol ports (a `visitor_key`) feed the same log as ROUTE_SCORE:
    /// every second one, under the visitor's pseudonym; infer requests asking for contributions are not fed.
    @Test func routedInferRequestsAreFedToo() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let registry = ModelRegistry()
        registry.add(TestModels.logistic, name: "conv")
        let routes = RouteTable()
        routes.install([Route(name: "checkout", salt: "s", variants: [.init(model: "conv", basisPoints: 10_000)], shadows: [])])
        let log = try SampleLog(
            settings: SampleLogSettings(directory: dir + "/feed", every: 2, retentionDays: nil, pseudonymiser: Self.key),
            logger: Logger(label: "test"))
        let service = InferenceService(
            registry: registry, serverVersion: "test", experiments: ServedExperiments(routes: routes, sampleLog: log))
        let ids = (0..<10).map { "visitor-\($0)@example.com" }
        for (i, id) in ids.enumerated() {
            let row = TestModels.row(i)
            let outputs = i == 8 ? #", "outputs": [{"name": "contributions"}]"# : ""
            let body = """
                {"parameters": {"visitor_key": "\(id)"}, "inputs": [{"name": "m", "datatype": "FP32", "shape": [1, 3],
                 "data": [\(row.map { "\($0)" }.joined(separator: ","))]}]\(outputs)}
                """
            let answer = service.respond(
                method: "POST", path: "/v2/models/checkout/infer", authorization: nil, jsonLength: nil, body: Array(body.utf8))
            #expect(answer.status == .ok)
        }
        log.stop()
        let files = FeedFiles.list(dir + "/feed")
        #expect(files.count == 1 && files[0].contains("/conv@1/"))
        let text = try String(contentsOfFile: try #require(files.first), encoding: .utf8)
        let records = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        // Every second scored request from the first; request 8 asked for contributions and does not count.
        #expect(records.map { r in ids.firstIndex { Self.key.pseudonym($0) == r[0] } } == [0, 2, 4, 6, 9])
        let scorer = Scorer(model: TestModels.logistic)
        for record in records {
            let i = try #require(ids.firstIndex { Self.key.pseudonym($0) == record[0] })
            #expect(record[2] == "checkout" && record[3] == "conv@1")
            #expect(Float(String(record[7])) == scorer.score(TestModels.row(i))[0])
        }
        for id in ids { #expect(!text.contains(id)) }
    }

    @Test func aTornLineIsTrimmedAtStartAndOldFilesExpire() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/conv@1", withIntermediateDirectories: true)
        let torn = dir + "/conv@1/feed-20261201T000000-kabcd.csv"
        try Data("visitor,time,route,variant,x,score\naa,t,r,v,1,0.5\nbb,t,r".utf8).write(to: URL(fileURLWithPath: torn))
        let old = dir + "/conv@1/feed-20261101T000000-kabcd.csv"
        try Data("visitor,time,route,variant,x,score\n".utf8).write(to: URL(fileURLWithPath: old))
        var times = [timespec(tv_sec: time(nil) - 10 * 86_400, tv_nsec: 0), timespec(tv_sec: time(nil) - 10 * 86_400, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, old, &times, 0) == 0)
        let log = try SampleLog(
            settings: SampleLogSettings(directory: dir, every: 1, retentionDays: 7, pseudonymiser: Self.key),
            logger: Logger(label: "test"))
        log.stop()
        #expect(try String(contentsOfFile: torn, encoding: .utf8) == "visitor,time,route,variant,x,score\naa,t,r,v,1,0.5\n")
        #expect(!FileManager.default.fileExists(atPath: old))
    }

    /// A write that fails (here the model's directory is a file, so no feed file can be opened; a full disk fails the
    /// same way, with ENOSPC): logged with its reason, sampling pauses, the caller is never blocked or failed.
    @Test func aFailingWritePausesSamplingAndSaysSo() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data().write(to: URL(fileURLWithPath: dir + "/conv@1"))
        let lines = LogRecorder()
        let log = try SampleLog(
            settings: SampleLogSettings(directory: dir, every: 1, retentionDays: nil, pseudonymiser: Self.key),
            logger: lines.logger)
        let served = ServedModel(name: "conv", version: "1", model: TestModels.logistic, path: "")
        let record = SampleLog.Record(
            model: served, route: "r", key: Array("k".utf8), features: TestModels.row(1), scores: [0.5], time: Date())
        #expect(log.offer(record))
        log.stop()
        #expect(lines.messages.contains { $0.contains("cannot write, sampling pauses for 60 s; scoring goes on") })
        #expect(lines.metadata.contains { $0["reason"]?.contains("Not a directory") == true })
    }

    @Test func anUnusableDirectoryIsRefused() {
        #expect(throws: SampleLogError.unusableDirectory("/proc/propensity-feed")) {
            _ = try SampleLog(
                settings: SampleLogSettings(directory: "/proc/propensity-feed", every: 1, retentionDays: nil, pseudonymiser: Self.key),
                logger: Logger(label: "test"))
        }
    }
}
