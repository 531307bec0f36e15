import Dispatch
import Logging
import NIOCore
import PropensityModel
import PropensityProtocol

/// Answers request frames in order on one connection. Scoring runs inline on the event loop: a request is
/// microseconds of arithmetic, less than a thread hop would cost.
final class ScoringHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private let registry: ModelRegistry
    private let limits: ServerLimits
    private let logger: Logger
    private let token: [UInt8]?
    private var authenticated: Bool
    private let metrics: ServerMetrics
    /// The metric handles of the model this connection scored last (most connections use one model).
    private var lastMetrics: (name: String, metrics: ServerMetrics.ModelMetrics)?

    init(registry: ModelRegistry, limits: ServerLimits, token: [UInt8]?, metrics: ServerMetrics, logger: Logger) {
        self.registry = registry
        self.limits = limits
        self.logger = logger
        self.token = token
        self.authenticated = token == nil
        self.metrics = metrics
    }

    /// Answers for the requests of the current read burst, sent as one write when the burst ends.
    private var outgoing: ByteBuffer?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        var out = outgoing ?? context.channel.allocator.buffer(capacity: 256)
        outgoing = nil
        do {
            let request = try RequestCodec.decode(frame)
            try answer(request, id: frame.requestID, into: &out)
        } catch {
            metrics.error(error.code)
            ResponseCodec.encode(.error(error.code, error.message), requestID: frame.requestID, into: &out)
        }
        outgoing = out
    }

    /// Pipelined requests that arrived together leave in one write and one flush.
    func channelReadComplete(context: ChannelHandlerContext) {
        if let out = outgoing, out.readableBytes > 0 {
            outgoing = nil
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Framing errors cannot be resynchronized past: answer (request id 0) and close this connection only.
        if let error = error as? ProtocolError {
            metrics.error(error.code)
            var out = context.channel.allocator.buffer(capacity: 64)
            ResponseCodec.encode(.error(error.code, error.message), requestID: 0, into: &out)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            logger.debug("connection error", metadata: ["error": "\(type(of: error))"])
            context.close(promise: nil)
        }
    }

    private func answer(_ request: IncomingRequest, id: UInt32, into out: inout ByteBuffer) throws(ProtocolError) {
        if case .auth(let presented) = request {
            guard let token else {
                ResponseCodec.encode(.authenticated, requestID: id, into: &out)  // nothing to check
                return
            }
            guard Self.constantTimeEqual(presented, token) else {
                logger.notice("audit: authentication refused")
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
            let served = try lookup(name)
            ResponseCodec.encode(.modelInfo(ModelInfo(
                name: served.name, kind: served.model.kind.rawValue, fingerprint: served.fingerprint,
                version: served.version, schema: served.model.schema)), requestID: id, into: &out)
        case .score(let name, let fingerprint, let rowCount, let featureCount, let features):
            let served = try lookup(name)
            guard fingerprint == served.fingerprint else {
                throw ProtocolError(
                    .schemaMismatch,
                    "schema fingerprint \(hex(fingerprint)) does not match model '\(name)' (\(hex(served.fingerprint))); fetch MODEL_INFO again")
            }
            guard featureCount == served.scorer.featureCount else {
                throw ProtocolError(
                    .wrongFeatureCount, "model '\(name)' takes \(served.scorer.featureCount) features per row, the request has \(featureCount)")
            }
            guard rowCount <= limits.maxRowsPerRequest else {
                throw ProtocolError(.tooManyRows, "\(rowCount) rows exceed the limit of \(limits.maxRowsPerRequest) per request")
            }
            let start = DispatchTime.now().uptimeNanoseconds
            out.reserveCapacity(minimumWritableBytes: 16 + rowCount * 4)
            features.withUnsafeReadableBytes { input in
                ResponseCodec.encodeScores(requestID: id, count: rowCount, into: &out) { output in
                    served.scorer.score(rows: input, rowCount: rowCount, into: output)
                }
            }
            let handles: ServerMetrics.ModelMetrics
            if let last = lastMetrics, last.name == served.name {
                handles = last.metrics
            } else {
                handles = metrics.model(served.name)
                lastMetrics = (served.name, handles)
            }
            handles.requests.increment()
            handles.rows.increment(by: rowCount)
            handles.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
        }
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
        guard let served = registry.model(named: name) else {
            throw ProtocolError(.unknownModel, "no model named '\(name)' is loaded")
        }
        return served
    }
}

func hex(_ v: UInt64) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}
