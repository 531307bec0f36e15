import Dispatch
import Foundation
import Logging
import NIOCore
import PropensityModel
import PropensityProtocol
import PropensityScoring

/// Answers request frames in order on one connection. It splits frames off the receive buffer itself (payloads are
/// slices of it, nothing is copied or boxed per request) and scores inline on the event loop: a request is
/// microseconds of arithmetic, less than a thread hop would cost. Answers to the requests of one read burst leave in
/// one write.
final class ScoringHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let registry: ModelRegistry
    private let routes: RouteTable
    private let shadows: ShadowScorer
    private let sampleLog: SampleLog?
    /// ROUTE_SCORE requests on this connection until the next one is sampled.
    private var untilSample = 1
    private let limits: ServerLimits
    private let logger: Logger
    private let token: ServerToken?
    private var authenticated: Bool
    private let authGuard: AuthGuard?
    /// Wrong tokens on this connection; the client's address, for the per-address limit and the audit log.
    private var authFailures = 0
    private var peer = "unknown"
    /// Set when the connection must close once the answers written so far are out (too many wrong tokens).
    private var closeAfterAnswers = false
    private let metrics: ServerMetrics
    /// Tells the connection guard when part of a frame is waiting for the rest.
    private let progress: FrameProgress
    /// The start of a frame whose rest has not arrived yet.
    private var partial: ByteBuffer?
    /// Answers for the requests of the current read burst, sent as one write when the burst ends.
    private var outgoing: ByteBuffer?
    /// Set after a framing error: the stream cannot be resynchronized, the connection is closing.
    private var closing = false
    /// The model this connection scored last and the address it was asked for, valid while the registry's
    /// generation is unchanged (separate fields: reading a tuple copies, and retains, all of it).
    private var lastServed: ServedModel?
    private var lastAddress = ""
    private var lastGeneration: UInt64 = 0
    /// Metric handles of the model scored last, and counts not yet added to them (added once per burst).
    private var lastMetrics: (name: String, metrics: ServerMetrics.ModelMetrics, requests: Int, rows: Int)?
    /// Whether the current read answered a SCORE: its duration is then observed once, from the read to its last
    /// answer (the server time of the read's slowest request). One observation per read rather than per request keeps
    /// the shared histogram's lock off the per-request path.
    private var scoredInRead = false
    /// Small SCORE requests of the current read waiting to be scored together.
    private var batch = ScoreBatch()
    /// This connection's event loop among the server's, the drift counters it writes (-1: none, not tracked).
    private let driftShard: Int
    /// When the current read began (monotonic nanoseconds): the time drift counts are filed under.
    private var readNanos: UInt64 = 0

    init(
        registry: ModelRegistry, limits: ServerLimits, token: ServerToken?, metrics: ServerMetrics,
        authGuard: AuthGuard? = nil, progress: FrameProgress = FrameProgress(), driftShard: Int = -1,
        routes: RouteTable = RouteTable(), shadows: ShadowScorer = .shared, sampleLog: SampleLog? = nil, logger: Logger
    ) {
        self.sampleLog = sampleLog
        self.driftShard = driftShard
        self.routes = routes
        self.shadows = shadows
        self.authGuard = authGuard
        self.registry = registry
        self.limits = limits
        self.logger = logger
        self.token = token
        self.authenticated = token == nil
        self.metrics = metrics
        self.progress = progress
    }

    func handlerAdded(context: ChannelHandlerContext) {
        peer = context.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var input = unwrapInboundIn(data)
        let continuing = partial != nil
        if var held = partial {
            partial = nil
            held.writeBuffer(&input)
            input = held
        }
        var out = outgoing ?? context.channel.allocator.buffer(capacity: 256)
        outgoing = nil
        var answered = false
        let readStart = DispatchTime.now().uptimeNanoseconds
        readNanos = readStart
        do {
            while !closeAfterAnswers, let frame = try FrameSplitter.next(from: &input, maxFrameBytes: limits.maxFrameBytes) {
                respond(to: frame, into: &out)
                answered = true
            }
            flushBatch(into: &out)
        } catch {
            flushBatch(into: &out)
            // A bad length cannot be resynchronized past: send the answers so far and the error (request id 0),
            // then close this connection only.
            closing = true
            progress.partialSince = nil
            metrics.error(error.code)
            ResponseCodec.encode(.error(error.code, error.message), requestID: 0, into: &out)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        if scoredInRead, let last = lastMetrics {
            scoredInRead = false
            last.metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - readStart))
        }
        if input.readableBytes > 0 {
            if continuing && !answered {
                partial = input  // still the same frame, in our own buffer: keep growing it
            } else {
                // Copied, so that a few leftover bytes do not pin the whole receive buffer.
                var held = context.channel.allocator.buffer(capacity: input.readableBytes)
                held.writeBuffer(&input)
                partial = held
            }
            if answered || progress.partialSince == nil { progress.partialSince = .now() }
        } else {
            progress.partialSince = nil
        }
        outgoing = out
    }

    /// Pipelined requests that arrived together leave in one write and one flush.
    func channelReadComplete(context: ChannelHandlerContext) {
        flushCounts()
        if closeAfterAnswers && !closing {
            closing = true
            let channel = context.channel
            let out = outgoing ?? context.channel.allocator.buffer(capacity: 0)
            outgoing = nil
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        if let out = outgoing, out.readableBytes > 0 {
            outgoing = nil
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["error": "\(type(of: error))"])
        context.close(promise: nil)
    }

    private func respond(to frame: Frame, into out: inout ByteBuffer) {
        do {
            let request = try RequestCodec.decode(frame)
            if case .score = request {} else { flushBatch(into: &out) }  // answers leave in request order
            try answer(request, id: frame.requestID, into: &out)
        } catch {
            flushBatch(into: &out)
            metrics.error(error.code)
            ResponseCodec.encode(.error(error.code, error.message), requestID: frame.requestID, into: &out)
        }
    }

    private func flushCounts() {
        guard let last = lastMetrics, last.requests > 0 else { return }
        last.metrics.requests.increment(by: last.requests)
        last.metrics.rows.increment(by: last.rows)
        lastMetrics = (last.name, last.metrics, 0, 0)
    }

    private func count(model name: String, rows: Int) {
        if lastMetrics?.name != name {
            flushCounts()
            lastMetrics = (name, metrics.model(name), 0, 0)
        }
        lastMetrics!.requests += 1
        lastMetrics!.rows += rows
    }

    private func answer(_ request: IncomingRequest, id: UInt32, into out: inout ByteBuffer) throws(ProtocolError) {
        if case .auth(let presented) = request {
            guard let token else {
                ResponseCodec.encode(.authenticated, requestID: id, into: &out)  // nothing to check
                return
            }
            let blocked = authGuard?.verdict(for: peer) == .blocked
            guard !blocked, Self.constantTimeEqual(presented, token.bytes) else {
                // A wrong token also ends an earlier authentication: the connection must present the right one again.
                authenticated = false
                authFailures += 1
                metrics.authFailures.increment()
                if let authGuard {
                    authGuard.recordFailure(from: peer, blocked: blocked)
                } else {
                    logger.notice("audit: authentication refused")
                }
                let limit = authGuard?.settings.failuresPerConnection ?? Int.max
                if blocked || authFailures >= limit {
                    closeAfterAnswers = true
                    throw ProtocolError(
                        .unauthorized,
                        blocked ? "too many failed attempts from this address; retry later" : "wrong token; closing after \(limit) attempts")
                }
                throw ProtocolError(.unauthorized, "wrong token")
            }
            authenticated = true
            ResponseCodec.encode(.authenticated, requestID: id, into: &out)
            return
        }
        guard authenticated else {
            throw ProtocolError(.unauthorized, "this server requires AUTH with its token before any other request")
        }
        switch request {
        case .auth:
            return
        case .ping:
            ResponseCodec.encode(.pong, requestID: id, into: &out)
        case .listModels:
            let list = registry.all.map {
                ModelSummary(
                    name: $0.name + "@" + $0.version, kind: $0.model.kind.rawValue, fingerprint: $0.fingerprint,
                    featureCount: $0.model.schema.count)
            }
            ResponseCodec.encode(.modelList(list), requestID: id, into: &out)
        case .modelInfo(let name):
            // A route's name, when no model has it, answers for the route's first variant (its schema is the route's).
            let served: ServedModel
            if registry.model(named: name) == nil, let route = routes.route(named: name) {
                served = try lookup(route.route.variants[0].model)
            } else {
                served = try lookup(name)
            }
            ResponseCodec.encode(.modelInfo(ModelInfo(
                name: served.name, kind: served.model.kind.rawValue, fingerprint: served.fingerprint,
                version: served.version, schema: served.model.schema)), requestID: id, into: &out)
        case .explain(let name, let fingerprint, let rowCount, let featureCount, let top, let features):
            let served = try checkedRows(
                name, fingerprint: fingerprint, rowCount: rowCount, featureCount: featureCount, features: features,
                rowLimit: limits.maxRowsPerExplain)
            let answer = try explained(
                served, address: name, rowCount: rowCount, featureCount: featureCount, top: top, features: features,
                into: &out)
            ResponseCodec.encode(.explanations(answer), requestID: id, into: &out)
        case .score(let name, let fingerprint, let rowCount, let featureCount, let features):
            let served = try checkedRows(
                name, fingerprint: fingerprint, rowCount: rowCount, featureCount: featureCount, features: features,
                rowLimit: limits.maxRowsPerRequest)
            if rowCount <= ScoreBatch.maxRows, served.scorer.batchingPays != nil {
                if !batch.accepts(served, rows: rowCount) { flushBatch(into: &out) }
                batch.add(served, id: id, rows: rowCount, features: features)
                return
            }
            flushBatch(into: &out)
            out.reserveCapacity(minimumWritableBytes: 16 + rowCount * 4)
            features.withUnsafeReadableBytes { input in
                ResponseCodec.encodeScores(requestID: id, count: rowCount, into: &out) { output in
                    served.scorer.score(rows: input, rowCount: rowCount, into: output)
                    served.drift?.record(
                        features: input, rowCount: rowCount, scores: UnsafeRawBufferPointer(output), shard: driftShard,
                        now: readNanos)
                }
            }
            count(model: served.name, rows: rowCount)
            scoredInRead = true
        case .routeExplain(let name, let key, let fingerprint, let rowCount, let featureCount, let top, let features):
            guard let route = routes.route(named: name) else {
                throw ProtocolError(.unknownRoute, "no route named '\(clipped(name))' is loaded")
            }
            do {
                let start = DispatchTime.now().uptimeNanoseconds
                let (index, served) = try routedModel(
                    route, key: key, fingerprint: fingerprint, rowCount: rowCount, featureCount: featureCount,
                    features: features, rowLimit: limits.maxRowsPerExplain)
                let answer = try explained(
                    served, address: route.route.variants[index].model, rowCount: rowCount, featureCount: featureCount,
                    top: top, features: features, into: &out)
                ResponseCodec.encode(.routedExplanations(variant: served.key, rows: answer), requestID: id, into: &out)
                let metrics = route.metrics.variants[index]
                for row in answer { metrics.score.record(Double(row.probability)) }
                metrics.requests.increment()
                metrics.rows.increment(by: rowCount)
                metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
            } catch {
                route.metrics.error(error.code)
                throw error
            }
        case .routeScore(let name, let key, let fingerprint, let rowCount, let featureCount, let features):
            guard let route = routes.route(named: name) else {
                throw ProtocolError(.unknownRoute, "no route named '\(clipped(name))' is loaded")
            }
            do {
                try answerRouted(
                    route, key: key, fingerprint: fingerprint, rowCount: rowCount, featureCount: featureCount,
                    features: features, id: id, into: &out)
            } catch {
                route.metrics.error(error.code)
                throw error
            }
        }
    }

    /// The checked rows of an EXPLAIN (plain or routed) scored, counted into drift, and explained with the top `top`
    /// reasons per row.
    private func explained(
        _ served: ServedModel, address: String, rowCount: Int, featureCount: Int, top: Int, features: ByteBuffer,
        into out: inout ByteBuffer
    ) throws(ProtocolError) -> [RowExplanation] {
        guard let explainer = served.explainer else {
            throw ProtocolError(.cannotExplain, "model '\(clipped(address))' has no node covers, which explanations need")
        }
        guard top >= 1, top <= featureCount else {
            throw ProtocolError(.invalidTopK, "top must be between 1 and the model's \(featureCount) features, not \(top)")
        }
        flushBatch(into: &out)
        let rows = features.withUnsafeReadableBytes { Scorer.floats(fromWire: $0, count: rowCount * featureCount) }
        let scores = served.scorer.score(rows)
        if let drift = served.drift {
            features.withUnsafeReadableBytes { input in
                scores.withUnsafeBytes { output in
                    drift.record(features: input, rowCount: rowCount, scores: output, shard: driftShard, now: readNanos)
                }
            }
        }
        count(model: served.name, rows: rowCount)
        return zip(scores, explainer.explain(rows: rows)).map { score, contributions in
            RowExplanation(
                probability: score, bias: contributions.bias,
                reasons: contributions.top(top).map { .init(feature: $0.feature, contribution: $0.contribution) })
        }
    }

    /// A routed request's variant for its visitor key (index into the route's variants) and that model, once the
    /// rows fit it (the checks of SCORE).
    private func routedModel(
        _ route: RouteTable.ServedRoute, key: ByteBuffer, fingerprint: UInt64, rowCount: Int, featureCount: Int,
        features: ByteBuffer, rowLimit: Int
    ) throws(ProtocolError) -> (Int, ServedModel) {
        guard key.readableBytes >= 1, key.readableBytes <= maxVisitorKeyBytes else {
            throw ProtocolError(
                .invalidVisitorKey,
                "a route needs a visitor key of 1 to \(maxVisitorKeyBytes) bytes, the request has \(key.readableBytes)")
        }
        let index = key.withUnsafeReadableBytes { route.route.variant(for: $0) }
        let served = try checkedRows(
            route.route.variants[index].model, fingerprint: fingerprint, rowCount: rowCount, featureCount: featureCount,
            features: features, rowLimit: rowLimit)
        return (index, served)
    }

    /// ROUTE_SCORE: the visitor's variant answers (checked as SCORE is), its metrics and drift count the rows, and
    /// the route's shadows get a copy for the background scorer.
    private func answerRouted(
        _ route: RouteTable.ServedRoute, key: ByteBuffer, fingerprint: UInt64, rowCount: Int, featureCount: Int,
        features: ByteBuffer, id: UInt32, into out: inout ByteBuffer
    ) throws(ProtocolError) {
        let start = DispatchTime.now().uptimeNanoseconds
        let (index, served) = try routedModel(
            route, key: key, fingerprint: fingerprint, rowCount: rowCount, featureCount: featureCount, features: features,
            rowLimit: limits.maxRowsPerRequest)
        flushBatch(into: &out)
        // Shadows that still fit the rows (a shadow file replaced by another schema is skipped), with their positions.
        let shadowModels = route.route.shadows.enumerated().compactMap { position, address in
            registry.model(named: address).flatMap { $0.fingerprint == served.fingerprint ? (position, $0) : nil }
        }
        let metrics = route.metrics.variants[index]
        var answered: [Float] = []
        features.withUnsafeReadableBytes { input in
            ResponseCodec.encodeRoutedScores(requestID: id, variant: served.key, count: rowCount, into: &out) { output in
                served.scorer.score(rows: input, rowCount: rowCount, into: output)
                served.drift?.record(
                    features: input, rowCount: rowCount, scores: UnsafeRawBufferPointer(output), shard: driftShard,
                    now: readNanos)
                answered = (0..<rowCount).map { output.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
            }
        }
        for p in answered { metrics.score.record(Double(p)) }
        metrics.requests.increment()
        metrics.rows.increment(by: rowCount)
        metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
        count(model: served.name, rows: rowCount)
        if !shadowModels.isEmpty {
            shadows.submit(ShadowScorer.Job(
                metrics: route.metrics, shadows: shadowModels,
                features: features.withUnsafeReadableBytes { Array($0) }, rowCount: rowCount, answered: answered))
        }
        if let sampleLog {
            untilSample -= 1
            if untilSample <= 0 {
                untilSample = sampleLog.settings.every
                let floats = features.withUnsafeReadableBytes { Scorer.floats(fromWire: $0, count: rowCount * featureCount) }
                sampleLog.offer(SampleLog.Record(
                    model: served, route: route.route.name, key: Array(key.readableBytesView), features: floats,
                    scores: answered, time: Date()))
            }
        }
    }

    /// The model a SCORE or EXPLAIN names, once the request fits it: fingerprint, feature count, row limit, no
    /// infinite feature (the documented order of checks).
    private func checkedRows(
        _ name: String, fingerprint: UInt64, rowCount: Int, featureCount: Int, features: ByteBuffer, rowLimit: Int
    ) throws(ProtocolError) -> ServedModel {
        let served = try lookup(name)
        guard fingerprint == served.fingerprint else {
            throw ProtocolError(
                .schemaMismatch,
                "schema fingerprint \(hex(fingerprint)) does not match model '\(clipped(name))' (\(hex(served.fingerprint))); fetch MODEL_INFO again")
        }
        guard featureCount == served.scorer.featureCount else {
            throw ProtocolError(
                .wrongFeatureCount, "model '\(clipped(name))' takes \(served.scorer.featureCount) features per row, the request has \(featureCount)")
        }
        guard rowCount <= rowLimit else {
            throw ProtocolError(.tooManyRows, "\(rowCount) rows exceed the limit of \(rowLimit) per request")
        }
        let infinity = features.withUnsafeReadableBytes { Scorer.firstInfinity(in: $0, count: rowCount * featureCount) }
        if let infinity {
            throw ProtocolError(
                .infiniteFeature,
                "row \(infinity / featureCount), feature \(infinity % featureCount) is infinite; send NaN for a missing value")
        }
        return served
    }

    private func flushBatch(into out: inout ByteBuffer) {
        guard batch.model != nil else { return }
        batch.flush(into: &out, driftShard: driftShard, now: readNanos) { served, rows in count(model: served.name, rows: rows) }
        scoredInRead = true
    }

    /// Compares every byte whatever the first difference, so timing does not reveal how much of a guess was right.
    static func constantTimeEqual(_ presented: ByteBuffer, _ token: [UInt8]) -> Bool {
        var difference: UInt8 = presented.readableBytes == token.count ? 0 : 1
        presented.withUnsafeReadableBytes { bytes in
            for i in 0..<token.count {
                difference |= token[i] ^ (i < bytes.count ? bytes[i] : 0)
            }
        }
        return difference == 0
    }

    private func lookup(_ name: String) throws(ProtocolError) -> ServedModel {
        let generation = registry.generation
        if let served = lastServed, lastGeneration == generation, lastAddress == name { return served }
        guard let served = registry.model(named: name) else {
            throw ProtocolError(.unknownModel, "no model named '\(clipped(name))' is loaded")
        }
        (lastServed, lastAddress, lastGeneration) = (served, name, generation)
        return served
    }
}

/// A client-supplied name as error messages quote it: at most 64 characters, so an answer never echoes a large
/// input back.
func clipped(_ name: String) -> String {
    name.count <= 64 ? name : String(name.prefix(63)) + "…"
}

func hex(_ v: UInt64) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}
