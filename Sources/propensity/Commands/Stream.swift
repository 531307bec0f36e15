import ArgumentParser
import Dispatch
import Foundation
import PropensityModelFile
import PropensityPrivacy
import PropensityServer
import PropensityStream
import Synchronization

struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score visitor events from a Redis stream into an output stream and audiences (at least once).",
        discussion: "SIGTERM or SIGINT finishes the batch in hand and exits 0. docs/streams.md describes events, outputs and guarantees.")

    @Option(help: "Redis address, HOST:PORT.") var redis: String = "127.0.0.1:6379"
    @Option(help: "File holding the Redis password (requirepass), if any.") var redisPasswordFile: String?
    @Option(help: "Input stream of events (fields: visitor, and the model's inputs by name).") var stream: String
    @Option(help: "Consumer group (created when missing).") var group: String = "propensity"
    @Option(help: "This consumer's name in the group: keep it across restarts to resume its pending events.")
    var consumer: String = ProcessInfo.processInfo.hostName
    @Option(help: "Model file to score with.") var model: String?
    @Option(help: "Model directory with an experiments.json, for --route.") var models: String?
    @Option(help: "Score with this route's variants (of --models): each visitor gets its variant, as the server assigns it.")
    var route: String?
    @Option(help: "Output stream (default: STREAM:scores).") var output: String?
    @Option(help: "Dead-letter stream for malformed events (default: STREAM:dead).") var deadLetter: String?
    @Option(help: "Audience NAME:THRESHOLD (repeatable): visitors whose latest probability is at least THRESHOLD.")
    var audience: [String] = []
    @Option(help: "Seconds after which a visitor not scored again leaves its audiences.") var audienceTtl: Double = 604_800
    @Option(help: "Events per read: the in-flight window.") var batch: Int = 100
    @Option(help: "Claim pending events of consumers idle this many milliseconds.") var claimIdleMs: Int = 30_000
    @Flag(help: "Create the input stream when it does not exist (default: refuse, it is likely a typo).")
    var createStream = false
    @Option(help: "Write HMAC-SHA256 pseudonyms of the visitor instead of the raw value (key file, chmod 600).")
    var pseudonymiseKeyFile: String?

    /// `--model FILE`, or `--models DIR --route NAME`: what events are scored with.
    private func scoring() throws -> EventConsumer.Scoring {
        switch (model, models, route) {
        case (let file?, nil, nil):
            let bytes = try ModelFile.read(file)
            let loaded = try ModelFile.decode(bytes, source: file)
            let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let version = bytes.suffix(ModelFile.checksumSize).prefix(6).map { String(format: "%02x", $0) }.joined()
            return .model(loaded, key: "\(name)@\(version)")
        case (nil, let directory?, let name?):
            let registry = ModelRegistry()
            let report = try registry.loadDirectory(directory)
            if let failure = report.failures.first { throw CLIError("\(failure.path): \(failure.reason)") }
            let table = RouteTable()
            try table.reload(directory: directory, registry: registry)
            guard let route = table.definition(of: name) else {
                throw CLIError("\(directory)/\(ExperimentsFile.fileName) has no route '\(name)'")
            }
            let variants = try route.variants.map { v in
                guard let served = registry.model(named: v.model) else { throw CLIError("route '\(name)': no model '\(v.model)'") }
                return (key: served.key, model: served.model)
            }
            return EventConsumer.Scoring(variants: variants, assign: { route.variant(for: $0) })
        default:
            throw CLIError("give --model FILE, or --models DIR with --route NAME")
        }
    }

    func run() throws {
        do {
            let parts = redis.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), port > 0, port < 65536 else {
                throw CLIError("--redis must be HOST:PORT, not '\(redis)'")
            }
            guard batch >= 1, batch <= 10_000 else { throw CLIError("--batch must be between 1 and 10000") }
            guard audienceTtl > 0, audienceTtl.isFinite else { throw CLIError("--audience-ttl must be positive") }
            guard claimIdleMs >= 100 else { throw CLIError("--claim-idle-ms must be at least 100") }
            let scoring = try self.scoring()
            var settings = StreamSettings(
                stream: stream, group: group, consumer: consumer, output: output ?? stream + ":scores",
                deadLetter: deadLetter ?? stream + ":dead")
            settings.host = String(parts[0])
            settings.port = port
            settings.password = try redisPasswordFile.map { file in
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw CLIError("--redis-password-file \(file): cannot read it")
                }
                return text.trimmingCharacters(in: .newlines)
            }
            settings.audiences = try audience.map { try Audience(parsing: $0) }
            settings.audienceTTL = audienceTtl
            settings.batch = batch
            settings.claimIdleMilliseconds = claimIdleMs
            settings.createStream = createStream
            let pseudonymiser = try pseudonymiseKeyFile.map { try Pseudonymiser(keyFile: $0) }
            let consumer = EventConsumer(
                settings: settings, scoring: scoring, pseudonymiser: pseudonymiser, log: { progress($0) })
            try consumer.start()
            progress("consuming \(stream) as \(settings.consumer) in group \(group) with \(scoring.variants.map(\.key).joined(separator: ", ")); scores to \(settings.output)")
            let stop = Atomic<Bool>(false)
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGTERM, SIGINT] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { stop.store(true, ordering: .relaxed) }
                source.resume()
                sources.append(source)
            }
            consumer.run { stop.load(ordering: .relaxed) }
            let c = consumer.counts
            print("stopped: \(c.scored) events scored, \(c.deadLettered) dead-lettered, \(c.claimed) claimed from other consumers, \(c.reconnects) reconnects")
            _ = sources
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("propensity: error: \(error)\n".utf8))
            throw ExitCode(1)
        } catch {
            FileHandle.standardError.write(Data("propensity: error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
