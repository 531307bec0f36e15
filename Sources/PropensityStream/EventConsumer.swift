import Foundation
import PropensityModel
import PropensityPrivacy
import PropensityScoring

/// Consumes a Redis stream in a consumer group and scores every event at least once (docs/streams.md): read with
/// XREADGROUP, score the batch, write the scores (output stream), audiences (sorted sets) and malformed events
/// (dead-letter stream), and only once Redis has accepted all of that, XACK. A consumer that dies leaves its entries
/// pending; restarted under the same name it reads them first, and other consumers claim them (XAUTOCLAIM) after
/// `claimIdleMilliseconds`. A lost connection is retried with a growing pause, never given up, and nothing read is
/// acknowledged before it is written. The loop is synchronous, so a slow output side slows the reading: nothing is
/// dropped.
public final class EventConsumer {
    public struct Counts: Sendable, Equatable {
        public var scored = 0
        public var deadLettered = 0
        public var reconnects = 0
        public var claimed = 0
    }

    public let settings: StreamSettings
    /// The model every event is scored with, or a route's variants (one schema) and how a visitor picks one.
    public struct Scoring: Sendable {
        public var variants: [(key: String, model: Model)]
        public var assign: @Sendable ([UInt8]) -> Int

        /// One model for every event; `key` is what the output's `model` field says (`NAME@VERSION`).
        public static func model(_ model: Model, key: String) -> Scoring {
            Scoring(variants: [(key, model)], assign: { _ in 0 })
        }

        public init(variants: [(key: String, model: Model)], assign: @escaping @Sendable ([UInt8]) -> Int) {
            self.variants = variants
            self.assign = assign
        }
    }

    private let scoring: Scoring
    private let schema: FeatureSchema
    private let scorers: [Scorer]
    private let names: FieldNames
    private let outputKey: [UInt8]
    private let pseudonymiser: Pseudonymiser?
    private let log: (String) -> Void
    public private(set) var counts = Counts()
    private var connection: RedisConnection?
    /// SHA-1 of the audience script once loaded (EVALSHA sends 40 bytes per event instead of the script).
    private var audienceSHA: String?
    /// Entries written but not yet acknowledged: the XACK goes out in front of the next read (one round trip
    /// less per batch); lost with a connection, they are read and scored again.
    private var unacknowledged: [String] = []

    /// - Parameters:
    ///   - scoring: the model, or a route's variants (which must share a schema).
    ///   - log: one line per notable event (reconnects, dead letters), never event contents.
    public init(
        settings: StreamSettings, scoring: Scoring, pseudonymiser: Pseudonymiser?,
        log: @escaping (String) -> Void = { _ in }
    ) {
        self.settings = settings
        precondition(!scoring.variants.isEmpty, "nothing to score with")
        self.scoring = scoring
        self.schema = scoring.variants[0].model.schema
        self.scorers = scoring.variants.map { Scorer(model: $0.model) }
        self.names = FieldNames(schema)
        self.outputKey = Array(settings.output.utf8)
        self.pseudonymiser = pseudonymiser
        self.log = log
    }

    /// Connects and creates the group if needed. Wrong credentials or a key that is not a stream are refused here; an
    /// unreachable Redis, or one still loading its data after a restart, is not (the loop keeps trying, as after any
    /// connection loss).
    public func start() throws(StreamSetupError) {
        do {
            try connectAndPrepare()
        } catch let error where error.isRetryable {
            log("redis unreachable or not ready (\(error)); retrying")
        } catch {
            throw .redis(error)
        }
    }

    /// Runs until `shouldStop` returns true (checked between batches; a read blocks at most `blockMilliseconds`).
    public func run(shouldStop: () -> Bool) {
        var pendingDone = false
        var lastClaim = Date.distantPast
        var pause = 0.1
        while !shouldStop() {
            do {
                if connection == nil {
                    try connectAndPrepare()
                    counts.reconnects += 1
                    log("reconnected to redis \(settings.host):\(settings.port)")
                    pendingDone = false
                }
                if !pendingDone {
                    // Our own pending entries first (read, not acknowledged, by an earlier run of this consumer).
                    let entries = try read(from: "0", block: false)
                    if entries.isEmpty { pendingDone = true } else { try process(entries) }
                    continue
                }
                if Date().timeIntervalSince(lastClaim) * 1000 >= Double(settings.claimIdleMilliseconds) / 2 {
                    lastClaim = Date()
                    let claimed = try claim()
                    if !claimed.isEmpty {
                        counts.claimed += claimed.count
                        try process(claimed)
                        continue
                    }
                }
                let entries = try read(from: ">", block: true)
                if !entries.isEmpty { try process(entries) }
                pause = 0.1
            } catch let error where error.isRetryable {
                connection = nil
                unacknowledged = []
                log("redis connection lost (\(error)); retrying in \(pause) s")
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 2)
            } catch {
                // A refused command (the stream deleted and recreated as another type, say): retry after a pause
                // rather than spin; the entries stay pending.
                log("\(error); retrying in \(pause) s")
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 2)
            }
        }
        flushAcknowledgements()
    }

    /// Acknowledges what was written before stopping.
    private func flushAcknowledgements() {
        guard let c = connection, !unacknowledged.isEmpty else { return }
        try? c.send(acknowledgement())
        _ = try? c.receiveFirstError(1)
        unacknowledged = []
    }

    /// `command` preceded by the pending XACK, in one pipeline; its entries (read in place, see `StreamEntries`).
    private func withAcknowledgements(
        _ c: RedisConnection, _ command: [String], entriesAt path: [Int32]
    ) throws(RedisError) -> [StreamEvent] {
        let acknowledging = !unacknowledged.isEmpty
        var commands = acknowledging ? acknowledgement() : RESPCommands()
        commands.command(command[0], arguments: command.count - 1)
        for argument in command.dropFirst() { commands.argument(argument) }
        try c.send(commands)
        // Both replies are read before anything is thrown, so none is left behind on the connection.
        let refused = acknowledging ? try c.receiveFirstError(1) : nil
        let entries = try c.receiveEntries(path: path)
        if let refused { throw .refused(command: "XACK", message: refused.message) }
        if acknowledging { unacknowledged = [] }
        if let error = entries.error { throw .refused(command: command[0], message: error) }
        return StreamEvent.events(entries)
    }

    private func acknowledgement() -> RESPCommands {
        var commands = RESPCommands()
        commands.command("XACK", arguments: 2 + unacknowledged.count)
        for argument in [settings.stream, settings.group] + unacknowledged { commands.argument(argument) }
        return commands
    }

    private func connectAndPrepare() throws(RedisError) {
        let c = try RedisConnection(host: settings.host, port: settings.port, password: settings.password)
        // A mistyped stream name must not become a new, empty stream that is waited on forever.
        if !settings.createStream, case .integer(0) = try c.command(["EXISTS", settings.stream]) {
            throw .refused(command: "XREADGROUP \(settings.stream)", message: "no such stream (--create-stream creates it)")
        }
        let reply = try c.command(["XGROUP", "CREATE", settings.stream, settings.group, "0", "MKSTREAM"])
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") {
            throw .refused(command: "XGROUP CREATE \(settings.stream)", message: message)
        }
        // Loaded on every connection: a restarted Redis has forgotten it.
        audienceSHA = nil
        if !settings.audiences.isEmpty {
            guard case .bulk(let sha) = try c.command(["SCRIPT", "LOAD", Self.audienceScript]) else {
                throw .refused(command: "SCRIPT LOAD", message: "no script digest in the reply")
            }
            audienceSHA = String(decoding: sha, as: UTF8.self)
        }
        connection = c
    }

    private func readArguments(from id: String, block: Bool) -> [String] {
        var arguments = ["XREADGROUP", "GROUP", settings.group, settings.consumer, "COUNT", String(settings.batch)]
        if block { arguments += ["BLOCK", String(settings.blockMilliseconds)] }
        return arguments + ["STREAMS", settings.stream, id]
    }

    private func read(from id: String, block: Bool) throws(RedisError) -> [StreamEvent] {
        guard let c = connection else { return [] }
        // Reply: [[stream, entries]], or nil on timeout.
        return try withAcknowledgements(c, readArguments(from: id, block: block), entriesAt: [0, 1])
    }

    private func claim() throws(RedisError) -> [StreamEvent] {
        guard let c = connection else { return [] }
        // Reply: [next cursor, entries, deleted ids].
        return try withAcknowledgements(c, [
            "XAUTOCLAIM", settings.stream, settings.group, settings.consumer, String(settings.claimIdleMilliseconds),
            "0-0", "COUNT", String(settings.batch),
        ], entriesAt: [1])
    }

    /// A scored batch: the commands that write it, and the entries it acknowledges once they succeed.
    private struct Batch {
        var writes: RESPCommands
        var ids: [String]
        var scored: Int
    }

    /// Scores, writes, and only then acknowledges one batch.
    private func process(_ events: [StreamEvent]) throws(RedisError) {
        try write(prepare(events))
    }

    private func write(_ batch: Batch) throws(RedisError) {
        guard let c = connection else { return }
        try c.send(batch.writes)
        try check(c.receiveFirstError(batch.writes.count), of: batch)
    }

    /// Marks the batch for acknowledgement if no write was refused; otherwise throws, leaving it pending.
    private func check(_ refused: (index: Int, message: String)?, of batch: Batch) throws(RedisError) {
        if let refused {
            // NOSCRIPT: Redis lost its scripts (SCRIPT FLUSH); reconnecting loads it again, and the batch, not
            // acknowledged, is done again.
            if refused.message.hasPrefix("NOSCRIPT") { connection = nil }
            throw .refused(command: batch.writes.names[refused.index], message: refused.message)
        }
        unacknowledged += batch.ids
        counts.scored += batch.scored
    }

    /// Parses and scores one batch into the commands that write it (dead letters included).
    private func prepare(_ events: [StreamEvent]) -> Batch {
        var valid: [(event: StreamEvent, visitor: [UInt8])] = []
        var rows: [Float] = []
        var writes = RESPCommands()
        for event in events {
            switch event.parse(schema, names: names) {
            case .row(let visitor, let features):
                valid.append((event, visitor))
                rows += features
            case .malformed(let reason):
                let visitors = (0..<event.fieldCount).filter(event.isVisitor)
                writes.command("XADD", arguments: 6 + 2 * visitors.count)
                for argument in [settings.deadLetter, "*", "event", event.id, "reason", reason] { writes.argument(argument) }
                for k in visitors {
                    // The raw visitor stays out of the dead letters when pseudonyms are asked for.
                    let value = Array(event.value(k))
                    writes.argument("visitor")
                    writes.argument(pseudonymiser.map { Array($0.pseudonym(bytes: value).utf8) } ?? value)
                }
                counts.deadLettered += 1
            }
        }
        // Each event's variant (always 0 for one model), its rows scored together per variant.
        let width = schema.count
        let variantOf = valid.map { scoring.assign($0.visitor) }
        var scores = [Float](repeating: 0, count: valid.count)
        for v in Set(variantOf) {
            let members = variantOf.indices.filter { variantOf[$0] == v }
            let batch = members.count == valid.count ? rows : members.flatMap { rows[($0 * width)..<(($0 + 1) * width)] }
            for (k, score) in zip(members, scorers[v].score(batch)) { scores[k] = score }
        }
        let now = Date().timeIntervalSince1970
        // One script call per audience for the whole batch: a call per event cost Redis more than the event's XADD.
        var audienceCalls = settings.audiences.map { audience in
            var call = RESPCommands()
            call.command("EVALSHA", arguments: 6 + 3 * valid.count)
            for argument in [audienceSHA ?? "", "2", audience.membersKey, audience.seenKey, "\(now)",
                             "\(now - settings.audienceTTL)"] { call.argument(argument) }
            return call
        }
        for (k, ((event, rawVisitor), score)) in zip(valid, scores).enumerated() {
            let visitor = pseudonymiser?.pseudonym(bytes: rawVisitor) ?? String(decoding: rawVisitor, as: UTF8.self)
            let probability = "\(score)"
            writes.command("XADD", arguments: 10)
            writes.argument(outputKey)
            for argument in ["*", "visitor", visitor, "model", scoring.variants[variantOf[k]].key, "score", probability,
                             "event", event.id] { writes.argument(argument) }
            for (a, audience) in settings.audiences.enumerated() {
                audienceCalls[a].argument(probability)
                audienceCalls[a].argument(visitor)
                audienceCalls[a].argument(Double(score) >= audience.threshold ? "1" : "0")
            }
        }
        if !valid.isEmpty { for call in audienceCalls { writes.append(call) } }
        if valid.count < events.count {
            log("\(events.count - valid.count) malformed events sent to \(settings.deadLetter)")
        }
        return Batch(writes: writes, ids: events.map(\.id), scored: valid.count)
    }

    /// KEYS: members, last-seen. ARGV: now, cutoff, then per event of the batch, in order: probability, visitor,
    /// in-audience (1/0). Sets or removes each visitor (a visitor twice in a batch ends as its last event says), then
    /// drops members not seen since the cutoff: at most 100 per event of the call, so a call stays short and expiry
    /// keeps up with arrivals.
    static let audienceScript = """
        local n = (#ARGV - 2) / 3
        for i = 0, n - 1 do
          local score, visitor = ARGV[3 + 3 * i], ARGV[4 + 3 * i]
          if ARGV[5 + 3 * i] == '1' then
            redis.call('ZADD', KEYS[1], score, visitor)
            redis.call('ZADD', KEYS[2], ARGV[1], visitor)
          else
            redis.call('ZREM', KEYS[1], visitor)
            redis.call('ZREM', KEYS[2], visitor)
          end
        end
        local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, 100 * n)
        for _, m in ipairs(old) do
          redis.call('ZREM', KEYS[1], m)
          redis.call('ZREM', KEYS[2], m)
        end
        return #old
        """
}
