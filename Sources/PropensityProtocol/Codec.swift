import NIOCore
import PropensityModel

/// A request as the server reads it: score features stay in the receive buffer (no copy, no allocation).
public enum IncomingRequest: Sendable {
    case ping
    case listModels
    case modelInfo(model: String)
    case score(model: String, fingerprint: UInt64, rowCount: Int, featureCount: Int, features: ByteBuffer)
    case auth(token: ByteBuffer)
    case explain(model: String, fingerprint: UInt64, rowCount: Int, featureCount: Int, top: Int, features: ByteBuffer)
    case routeScore(route: String, key: ByteBuffer, fingerprint: UInt64, rowCount: Int, featureCount: Int, features: ByteBuffer)
    case routeExplain(
        route: String, key: ByteBuffer, fingerprint: UInt64, rowCount: Int, featureCount: Int, top: Int, features: ByteBuffer)
}

public enum RequestCodec {
    public static func encode(_ request: Request, requestID: UInt32, into buffer: inout ByteBuffer) {
        switch request {
        case .ping:
            buffer.writeFrame(opcode: .ping, requestID: requestID) { _ in }
        case .listModels:
            buffer.writeFrame(opcode: .listModels, requestID: requestID) { _ in }
        case .modelInfo(let model):
            buffer.writeFrame(opcode: .modelInfo, requestID: requestID) { $0.writeShortString(model) }
        case .auth(let token):
            buffer.writeFrame(opcode: .auth, requestID: requestID) { b in
                b.writeInteger(UInt16(min(token.count, Int(UInt16.max))), endianness: .little)
                b.writeBytes(token.prefix(Int(UInt16.max)))
            }
        case .score(let s):
            buffer.writeFrame(opcode: .score, requestID: requestID) { b in
                b.writeShortString(s.model)
                b.writeMultipleIntegers(s.fingerprint, UInt32(s.rowCount), UInt32(s.featureCount), endianness: .little)
                b.reserveCapacity(minimumWritableBytes: s.features.count * 4)
                for x in s.features { b.writeInteger(x.bitPattern, endianness: .little) }
            }
        case .explain(let s, let top):
            buffer.writeFrame(opcode: .explain, requestID: requestID) { b in
                b.writeShortString(s.model)
                b.writeMultipleIntegers(
                    s.fingerprint, UInt32(s.rowCount), UInt32(s.featureCount), UInt16(clamping: top), endianness: .little)
                b.reserveCapacity(minimumWritableBytes: s.features.count * 4)
                for x in s.features { b.writeInteger(x.bitPattern, endianness: .little) }
            }
        case .routeScore(let s), .routeExplain(let s, _):
            let top: Int? = if case .routeExplain(_, let top) = request { top } else { nil }
            buffer.writeFrame(opcode: top == nil ? .routeScore : .routeExplain, requestID: requestID) { b in
                b.writeShortString(s.route)
                b.writeInteger(UInt16(min(s.key.count, Int(UInt16.max))), endianness: .little)
                b.writeBytes(s.key.prefix(Int(UInt16.max)))
                b.writeMultipleIntegers(s.fingerprint, UInt32(s.rowCount), UInt32(s.featureCount), endianness: .little)
                if let top { b.writeInteger(UInt16(clamping: top), endianness: .little) }
                b.reserveCapacity(minimumWritableBytes: s.features.count * 4)
                for x in s.features { b.writeInteger(x.bitPattern, endianness: .little) }
            }
        }
    }

    /// Decodes a request frame; the error says what is wrong so the server can answer it and keep the connection.
    public static func decode(_ frame: Frame) throws(ProtocolError) -> IncomingRequest {
        guard frame.version == WireProtocol.version else {
            throw ProtocolError(
                .unsupportedVersion, "protocol version \(frame.version) is not supported (this server speaks \(WireProtocol.version))")
        }
        var payload = frame.payload
        let request: IncomingRequest
        switch Opcode(rawValue: frame.opcode) {
        case .ping:
            request = .ping
        case .listModels:
            request = .listModels
        case .modelInfo:
            request = .modelInfo(model: try payload.readShortString("model name"))
        case .auth:
            let length = Int(try payload.readLE(UInt16.self, "token length"))
            guard let token = payload.readSlice(length: length) else {
                throw ProtocolError(.malformedFrame, "token runs past the end of the frame")
            }
            request = .auth(token: token)
        case .score:
            return try decodeScore(payload)
        case .explain:
            let model = try payload.readShortString("model name")
            let fingerprint = try payload.readLE(UInt64.self, "schema fingerprint")
            let rows = Int(try payload.readLE(UInt32.self, "row count"))
            let features = Int(try payload.readLE(UInt32.self, "feature count"))
            let top = Int(try payload.readLE(UInt16.self, "top"))
            let (bytes, overflow) = rows.multipliedReportingOverflow(by: features * 4)
            guard !overflow, bytes == payload.readableBytes else {
                throw ProtocolError(
                    .malformedFrame,
                    "\(rows) rows × \(features) features do not match the \(payload.readableBytes) bytes of floats in the frame")
            }
            return .explain(
                model: model, fingerprint: fingerprint, rowCount: rows, featureCount: features, top: top,
                features: payload.readSlice(length: bytes)!)
        case .routeScore, .routeExplain:
            let explaining = frame.opcode == Opcode.routeExplain.rawValue
            let route = try payload.readShortString("route name")
            let keyLength = Int(try payload.readLE(UInt16.self, "visitor key length"))
            guard let key = payload.readSlice(length: keyLength) else {
                throw ProtocolError(.malformedFrame, "visitor key runs past the end of the frame")
            }
            let fingerprint = try payload.readLE(UInt64.self, "schema fingerprint")
            let rows = Int(try payload.readLE(UInt32.self, "row count"))
            let features = Int(try payload.readLE(UInt32.self, "feature count"))
            let top = explaining ? Int(try payload.readLE(UInt16.self, "top")) : 0
            let (bytes, overflow) = rows.multipliedReportingOverflow(by: features * 4)
            guard !overflow, bytes == payload.readableBytes else {
                throw ProtocolError(
                    .malformedFrame,
                    "\(rows) rows × \(features) features do not match the \(payload.readableBytes) bytes of floats in the frame")
            }
            let floats = payload.readSlice(length: bytes)!
            return explaining
                ? .routeExplain(
                    route: route, key: key, fingerprint: fingerprint, rowCount: rows, featureCount: features, top: top,
                    features: floats)
                : .routeScore(
                    route: route, key: key, fingerprint: fingerprint, rowCount: rows, featureCount: features,
                    features: floats)
        default:
            throw ProtocolError(.unknownOpcode, "opcode 0x\(String(frame.opcode, radix: 16)) is not a request")
        }
        guard payload.readableBytes == 0 else {
            throw ProtocolError(.malformedFrame, "\(payload.readableBytes) unexpected bytes after the request")
        }
        return request
    }

    /// A SCORE payload in one pass over its bytes (the server's per-request path: no copies, no intermediate
    /// buffers); a malformed one is refused naming the field that does not fit. The error is built only then.
    @inline(__always)
    static func decodeScore(_ payload: ByteBuffer) throws(ProtocolError) -> IncomingRequest {
        var short = ""  // the field that runs past the end, if one does
        var badName = false
        let parsed = payload.withUnsafeReadableBytes { raw -> (String, UInt64, Int, Int, Int)? in
            guard raw.count >= 2 else { short = "model name"; return nil }
            let n = Int(UInt16(littleEndian: raw.loadUnaligned(as: UInt16.self)))
            guard raw.count >= 18 + n else {
                short = raw.count < 2 + n ? "model name" : raw.count < 10 + n ? "schema fingerprint"
                    : raw.count < 14 + n ? "row count" : "feature count"
                return nil
            }
            guard let model = String(strictUTF8: UnsafeRawBufferPointer(rebasing: raw[2..<(2 + n)])) else {
                badName = true
                return nil
            }
            return (
                model, UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 2 + n, as: UInt64.self)),
                Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 10 + n, as: UInt32.self))),
                Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 14 + n, as: UInt32.self))), 18 + n)
        }
        guard let (model, fingerprint, rows, features, start) = parsed else {
            throw badName
                ? ProtocolError(.malformedFrame, "model name is not valid UTF-8")
                : ProtocolError(.malformedFrame, "\(short) runs past the end of the frame")
        }
        // Both counts come from the peer: the product must not overflow.
        let (bytes, overflow) = rows.multipliedReportingOverflow(by: features * 4)
        guard !overflow, bytes == payload.readableBytes - start else {
            throw ProtocolError(
                .malformedFrame,
                "\(rows) rows × \(features) features do not match the \(payload.readableBytes - start) bytes of floats in the frame")
        }
        return .score(
            model: model, fingerprint: fingerprint, rowCount: rows, featureCount: features,
            features: payload.getSlice(at: payload.readerIndex + start, length: bytes)!)
    }

}

public enum ResponseCodec {
    public static func encode(_ response: Response, requestID: UInt32, into buffer: inout ByteBuffer) {
        switch response {
        case .pong:
            buffer.writeFrame(opcode: .pong, requestID: requestID) { _ in }
        case .authenticated:
            buffer.writeFrame(opcode: .authenticated, requestID: requestID) { _ in }
        case .modelList(let models):
            buffer.writeFrame(opcode: .modelList, requestID: requestID) { b in
                b.writeInteger(UInt32(models.count), endianness: .little)
                for m in models {
                    b.writeShortString(m.name)
                    b.writeMultipleIntegers(m.kind, m.fingerprint, UInt32(m.featureCount), endianness: .little)
                }
            }
        case .modelInfo(let info):
            buffer.writeFrame(opcode: .modelInfoResult, requestID: requestID) { b in
                b.writeShortString(info.name)
                b.writeMultipleIntegers(info.kind, info.fingerprint, endianness: .little)
                b.writeShortString(info.version)
                b.writeInteger(UInt32(info.schema.count), endianness: .little)
                for f in info.schema.features {
                    b.writeShortString(f.name)
                    switch f.kind {
                    case .numeric:
                        b.writeInteger(UInt8(0))
                    case .categorical(let categories):
                        b.writeInteger(UInt8(1))
                        b.writeInteger(UInt32(categories.count), endianness: .little)
                        for c in categories { b.writeShortString(c) }
                    }
                }
            }
        case .scores(let scores):
            encodeScores(requestID: requestID, count: scores.count, into: &buffer) { out in
                for (i, s) in scores.enumerated() {
                    out.storeBytes(of: s.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                }
            }
        case .routedScores(let variant, let scores):
            buffer.writeFrame(opcode: .routedScores, requestID: requestID) { b in
                b.writeShortString(variant)
                b.writeInteger(UInt32(scores.count), endianness: .little)
                for x in scores { b.writeInteger(x.bitPattern, endianness: .little) }
            }
        case .explanations(let rows):
            buffer.writeFrame(opcode: .explanations, requestID: requestID) { b in writeExplanations(rows, into: &b) }
        case .routedExplanations(let variant, let rows):
            buffer.writeFrame(opcode: .routedExplanations, requestID: requestID) { b in
                b.writeShortString(variant)
                writeExplanations(rows, into: &b)
            }
        case .error(let code, let message):
            buffer.writeFrame(opcode: .error, requestID: requestID) { b in
                b.writeInteger(code.rawValue, endianness: .little)
                b.writeShortString(message)
            }
        }
    }

    /// Writes a SCORES frame whose `count` floats are filled in place by `fill` (the server scores straight into
    /// the send buffer).
    public static func encodeScores(
        requestID: UInt32, count: Int, into buffer: inout ByteBuffer, _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        // The size is known up front, so the header goes in with the scores in one pass over raw memory (this is
        // the server's per-request hot path).
        let frameBytes = 4 + WireProtocol.headerSize + 4 + count * 4
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: frameBytes) { out in
            out.storeBytes(of: UInt32(frameBytes - 4).littleEndian, toByteOffset: 0, as: UInt32.self)
            out.storeBytes(of: WireProtocol.version, toByteOffset: 4, as: UInt8.self)
            out.storeBytes(of: Opcode.scores.rawValue, toByteOffset: 5, as: UInt8.self)
            out.storeBytes(of: UInt16(0), toByteOffset: 6, as: UInt16.self)
            out.storeBytes(of: requestID.littleEndian, toByteOffset: 8, as: UInt32.self)
            out.storeBytes(of: UInt32(count).littleEndian, toByteOffset: 12, as: UInt32.self)
            fill(UnsafeMutableRawBufferPointer(rebasing: out[16..<frameBytes]))
            return frameBytes
        }
    }

    /// Writes a ROUTED_SCORES frame: the variant that answered, then `count` floats filled in place by `fill`.
    public static func encodeRoutedScores(
        requestID: UInt32, variant: String, count: Int, into buffer: inout ByteBuffer,
        _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        buffer.writeFrame(opcode: .routedScores, requestID: requestID) { b in
            b.writeShortString(variant)
            b.writeInteger(UInt32(count), endianness: .little)
            b.writeWithUnsafeMutableBytes(minimumWritableBytes: count * 4) { out in
                fill(UnsafeMutableRawBufferPointer(rebasing: out[0..<(count * 4)]))
                return count * 4
            }
        }
    }

    public static func decode(_ frame: Frame) throws(ProtocolError) -> Response {
        guard frame.version == WireProtocol.version else {
            throw ProtocolError(.unsupportedVersion, "response has protocol version \(frame.version)")
        }
        var p = frame.payload
        let response: Response
        switch Opcode(rawValue: frame.opcode) {
        case .pong:
            response = .pong
        case .authenticated:
            response = .authenticated
        case .modelList:
            let n = Int(try p.readLE(UInt32.self, "model count"))
            var models: [ModelSummary] = []
            for _ in 0..<min(n, p.readableBytes) {
                let name = try p.readShortString("model name")
                let kind = try p.readLE(UInt16.self, "model kind")
                let fingerprint = try p.readLE(UInt64.self, "fingerprint")
                let count = Int(try p.readLE(UInt32.self, "feature count"))
                models.append(ModelSummary(name: name, kind: kind, fingerprint: fingerprint, featureCount: count))
            }
            guard models.count == n else { throw ProtocolError(.malformedFrame, "model list is truncated") }
            response = .modelList(models)
        case .modelInfoResult:
            let name = try p.readShortString("model name")
            let kind = try p.readLE(UInt16.self, "model kind")
            let fingerprint = try p.readLE(UInt64.self, "fingerprint")
            let version = try p.readShortString("model version")
            let n = Int(try p.readLE(UInt32.self, "feature count"))
            var features: [Feature] = []
            for _ in 0..<min(n, p.readableBytes) {
                let featureName = try p.readShortString("feature name")
                switch try p.readLE(UInt8.self, "feature kind") {
                case 0:
                    features.append(.numeric(featureName))
                case 1:
                    let count = Int(try p.readLE(UInt32.self, "category count"))
                    var categories: [String] = []
                    for _ in 0..<min(count, p.readableBytes) { categories.append(try p.readShortString("category")) }
                    guard categories.count == count else { throw ProtocolError(.malformedFrame, "categories truncated") }
                    features.append(.categorical(featureName, categories))
                case let k:
                    throw ProtocolError(.malformedFrame, "unknown feature kind \(k)")
                }
            }
            guard features.count == n else { throw ProtocolError(.malformedFrame, "schema is truncated") }
            response = .modelInfo(ModelInfo(
                name: name, kind: kind, fingerprint: fingerprint, version: version,
                schema: FeatureSchema(features: features)))
        case .scores:
            response = .scores(try readScores(&p))
        case .routedScores:
            let variant = try p.readShortString("variant")
            response = .routedScores(variant: variant, scores: try readScores(&p))
        case .explanations:
            response = .explanations(try readExplanations(&p))
        case .routedExplanations:
            let variant = try p.readShortString("variant")
            response = .routedExplanations(variant: variant, rows: try readExplanations(&p))
        case .error:
            let raw = try p.readLE(UInt16.self, "error code")
            let message = try p.readShortString("error message")
            response = .error(ErrorCode(rawValue: raw) ?? .internalError, message)
        default:
            throw ProtocolError(.unknownOpcode, "opcode 0x\(String(frame.opcode, radix: 16)) is not a response")
        }
        guard p.readableBytes == 0 else {
            throw ProtocolError(.malformedFrame, "\(p.readableBytes) unexpected bytes after the response")
        }
        return response
    }

    /// EXPLANATIONS' body: `u32` rows, `u16` K, then per row probability, bias and K reasons.
    static func writeExplanations(_ rows: [RowExplanation], into b: inout ByteBuffer) {
        b.writeInteger(UInt32(rows.count), endianness: .little)
        b.writeInteger(UInt16(rows.first?.reasons.count ?? 0), endianness: .little)
        for row in rows {
            b.writeInteger(row.probability.bitPattern, endianness: .little)
            b.writeInteger(row.bias.bitPattern, endianness: .little)
            for reason in row.reasons {
                b.writeInteger(UInt16(reason.feature), endianness: .little)
                b.writeInteger(reason.contribution.bitPattern, endianness: .little)
            }
        }
    }

    private static func readExplanations(_ p: inout ByteBuffer) throws(ProtocolError) -> [RowExplanation] {
        let n = Int(try p.readLE(UInt32.self, "row count"))
        let k = Int(try p.readLE(UInt16.self, "reasons per row"))
        guard p.readableBytes == n * (12 + k * 10) else {
            throw ProtocolError(.malformedFrame, "\(n) explanations of \(k) reasons do not match \(p.readableBytes) bytes")
        }
        var rows: [RowExplanation] = []
        rows.reserveCapacity(n)
        for _ in 0..<n {
            let probability = Float(bitPattern: try p.readLE(UInt32.self, "probability"))
            let bias = Double(bitPattern: try p.readLE(UInt64.self, "bias"))
            var reasons: [RowExplanation.Reason] = []
            for _ in 0..<k {
                let feature = Int(try p.readLE(UInt16.self, "feature"))
                reasons.append(.init(feature: feature, contribution: Double(bitPattern: try p.readLE(UInt64.self, "contribution"))))
            }
            rows.append(RowExplanation(probability: probability, bias: bias, reasons: reasons))
        }
        return rows
    }

    /// `u32` count, then that many float32.
    private static func readScores(_ p: inout ByteBuffer) throws(ProtocolError) -> [Float] {
        let n = Int(try p.readLE(UInt32.self, "score count"))
        guard p.readableBytes == n * 4 else {
            throw ProtocolError(.malformedFrame, "\(n) scores need \(n * 4) bytes, the frame carries \(p.readableBytes)")
        }
        var scores = [Float](repeating: 0, count: n)
        p.withUnsafeReadableBytes { raw in
            for i in 0..<n {
                scores[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
        }
        p.moveReaderIndex(forwardBy: n * 4)
        return scores
    }
}