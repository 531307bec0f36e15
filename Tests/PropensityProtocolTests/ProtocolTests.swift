import NIOCore
import PropensityModel
import Testing

@testable import PropensityProtocol

@Suite struct ProtocolTests {
    func frames(_ buffer: ByteBuffer, maxFrameBytes: Int = 1 << 20) throws -> [Frame] {
        var b = buffer
        var out: [Frame] = []
        while let length = b.getInteger(at: b.readerIndex, endianness: .little, as: UInt32.self),
            b.readableBytes >= 4 + Int(length)
        {
            b.moveReaderIndex(forwardBy: 4)
            let (v, op, flags, id) = b.readMultipleIntegers(endianness: .little, as: (UInt8, UInt8, UInt16, UInt32).self)!
            out.append(Frame(version: v, opcode: op, flags: flags, requestID: id, payload: b.readSlice(length: Int(length) - 8)!))
        }
        #expect(b.readableBytes == 0)
        return out
    }

    @Test func scoreRequestBytesAreAsDocumented() throws {
        var b = ByteBuffer()
        let request = ScoreRequest(model: "m", fingerprint: 0x0102_0304_0506_0708, rowCount: 1, featureCount: 2, features: [1, .nan])
        RequestCodec.encode(.score(request), requestID: 7, into: &b)
        let expected: [UInt8] = [
            35, 0, 0, 0,  // length of what follows (8 header + 3 name + 8 fingerprint + 8 counts + 8 floats)
            1, 0x04, 0, 0, 7, 0, 0, 0,  // version, SCORE, flags, request id
            1, 0, UInt8(ascii: "m"),  // model name
            8, 7, 6, 5, 4, 3, 2, 1,  // fingerprint
            1, 0, 0, 0, 2, 0, 0, 0,  // rows, features
            0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0xC0, 0x7F,  // 1.0f, NaN
        ]
        #expect(Array(b.readableBytesView) == expected)
        // The answer from docs/protocol.md.
        var answer = ByteBuffer()
        ResponseCodec.encode(.scores([0.25]), requestID: 7, into: &answer)
        #expect(Array(answer.readableBytesView) == [16, 0, 0, 0, 1, 0x84, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x80, 0x3E])
    }

    @Test func requestsRoundTrip() throws {
        let requests: [Request] = [
            .ping, .listModels, .modelInfo(model: "conversion"),
            .score(ScoreRequest(model: "café", fingerprint: 42, rowCount: 2, featureCount: 3, features: [1, 2, 3, 4, .nan, -1])),
        ]
        var b = ByteBuffer()
        for (i, r) in requests.enumerated() { RequestCodec.encode(r, requestID: UInt32(i + 1), into: &b) }
        let decoded = try frames(b)
        #expect(decoded.map(\.requestID) == [1, 2, 3, 4])
        for (frame, request) in zip(decoded, requests) {
            let incoming = try RequestCodec.decode(frame)
            switch (incoming, request) {
            case (.ping, .ping), (.listModels, .listModels): break
            case (.modelInfo(let a), .modelInfo(let b)): #expect(a == b)
            case (.score(let model, let fp, let rows, let width, var features), .score(let s)):
                #expect(model == s.model && fp == s.fingerprint && rows == s.rowCount && width == s.featureCount)
                let floats = (0..<(rows * width)).map { _ in
                    Float(bitPattern: features.readInteger(endianness: .little, as: UInt32.self)!)
                }
                #expect(floats.map(\.bitPattern) == s.features.map(\.bitPattern))
            default: Issue.record("decoded \(incoming) for \(request)")
            }
        }
    }

    @Test func responsesRoundTrip() throws {
        let responses: [Response] = [
            .pong,
            .modelList([ModelSummary(name: "a", kind: 1, fingerprint: 9, featureCount: 3)]),
            .modelInfo(ModelInfo(
                name: "a", kind: 1, fingerprint: 9, version: "2026-11-29",
                schema: FeatureSchema(features: [.numeric("x"), .categorical("c", ["p", "q"])]))),
            .scores([0.25, 0.5, 0.125]),
            .scores([]),
            .routedScores(variant: "conversion@8", scores: [0.75, 0.5]),
            .routedExplanations(variant: "conversion@8", rows: [
                RowExplanation(probability: 0.25, bias: -1.5, reasons: [.init(feature: 2, contribution: 0.75)]),
            ]),
            .error(.schemaMismatch, "fingerprint differs"),
        ]
        var b = ByteBuffer()
        for (i, r) in responses.enumerated() { ResponseCodec.encode(r, requestID: UInt32(i), into: &b) }
        let decoded = try frames(b).map { try ResponseCodec.decode($0) }
        #expect(decoded == responses)
    }

    @Test func routeScoreBytesAreAsDocumented() throws {
        var b = ByteBuffer()
        let request = RouteScoreRequest(
            route: "r", key: [0xAB, 0xCD], fingerprint: 0x0102_0304_0506_0708, rowCount: 1, featureCount: 1, features: [1])
        RequestCodec.encode(.routeScore(request), requestID: 9, into: &b)
        let expected: [UInt8] = [
            35, 0, 0, 0,  // length: 8 header + 3 route + 4 key + 8 fingerprint + 8 counts + 4 floats
            1, 0x07, 0, 0, 9, 0, 0, 0,  // version, ROUTE_SCORE, flags, request id
            1, 0, UInt8(ascii: "r"),  // route
            2, 0, 0xAB, 0xCD,  // visitor key
            8, 7, 6, 5, 4, 3, 2, 1,  // fingerprint
            1, 0, 0, 0, 1, 0, 0, 0,  // rows, features
            0x00, 0x00, 0x80, 0x3F,  // 1.0f
        ]
        #expect(Array(b.readableBytesView) == expected)
        guard case .routeScore(let route, let key, let fingerprint, let rows, let width, let features) =
            try RequestCodec.decode(try frames(b)[0])
        else { Issue.record("not a ROUTE_SCORE"); return }
        #expect(route == "r" && Array(key.readableBytesView) == [0xAB, 0xCD] && fingerprint == request.fingerprint)
        #expect(rows == 1 && width == 1 && Array(features.readableBytesView) == [0, 0, 0x80, 0x3F])
        // A key that runs past the frame is a malformed frame.
        let error = #expect(throws: ProtocolError.self) {
            try RequestCodec.decode(frame(opcode: 0x07, payload: [1, 0, UInt8(ascii: "r"), 200, 0, 1]))
        }
        #expect(error?.code == .malformedFrame)
        // The server's in-place encoder writes what the general one does.
        var direct = ByteBuffer()
        ResponseCodec.encodeRoutedScores(requestID: 3, variant: "m@1", count: 1, into: &direct) {
            $0.storeBytes(of: Float(0.25).bitPattern.littleEndian, as: UInt32.self)
        }
        var general = ByteBuffer()
        ResponseCodec.encode(.routedScores(variant: "m@1", scores: [0.25]), requestID: 3, into: &general)
        #expect(direct == general)
    }

    func frame(opcode: UInt8, version: UInt8 = 1, payload: [UInt8]) -> Frame {
        Frame(version: version, opcode: opcode, requestID: 1, payload: ByteBuffer(bytes: payload))
    }

    @Test func malformedRequestsAreNamed() {
        #expect(throws: ProtocolError.self) { try RequestCodec.decode(frame(opcode: 0x03, payload: [5, 0, 65])) }
        let version = #expect(throws: ProtocolError.self) { try RequestCodec.decode(frame(opcode: 1, version: 9, payload: [])) }
        #expect(version?.code == .unsupportedVersion)
        let opcode = #expect(throws: ProtocolError.self) { try RequestCodec.decode(frame(opcode: 0x55, payload: [])) }
        #expect(opcode?.code == .unknownOpcode)
        let extra = #expect(throws: ProtocolError.self) { try RequestCodec.decode(frame(opcode: 1, payload: [0])) }
        #expect(extra?.code == .malformedFrame)
        // 2 rows × 2 features announced, 1 float sent.
        let short: [UInt8] = [1, 0, 109] + [UInt8](repeating: 0, count: 8) + [2, 0, 0, 0, 2, 0, 0, 0] + [0, 0, 0, 0]
        let count = #expect(throws: ProtocolError.self) { try RequestCodec.decode(frame(opcode: 4, payload: short)) }
        #expect(count?.code == .malformedFrame)
        // Row × feature counts that overflow must not crash.
        let huge: [UInt8] = [1, 0, 109] + [UInt8](repeating: 0, count: 8) + [255, 255, 255, 255, 255, 255, 255, 255]
        #expect(throws: ProtocolError.self) { try RequestCodec.decode(frame(opcode: 4, payload: huge)) }
        let utf8: [UInt8] = [2, 0, 0xC3, 0x28]
        #expect(throws: ProtocolError.self) { try RequestCodec.decode(frame(opcode: 3, payload: utf8)) }
    }

    /// Model names are strict UTF-8: what the standard library's validating initializer accepts, and nothing else
    /// (overlong forms, surrogates, code points past U+10FFFF, stray or missing continuation bytes are refused).
    @Test func modelNamesAreStrictUTF8() {
        let cases: [[UInt8]] = [
            [], Array("conversion@3".utf8), Array("zażółć 🐈".utf8), [0x7F], [0xC2, 0x80], [0xEF, 0xBF, 0xBD],
            [0xF4, 0x8F, 0xBF, 0xBF],  // valid, up to the last code point
            [0xC3, 0x28], [0x80], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82], [0x61, 0xFF, 0x62], [0x61, 0x00, 0x62],
        ]
        for bytes in cases {
            let strict = bytes.withUnsafeBytes { String(strictUTF8: $0) }
            let reference = String(validating: bytes, as: UTF8.self)
            #expect(strict == reference, "bytes \(bytes)")
            // Through the SCORE decoder too: a valid name is decoded, an invalid one refused as malformed.
            let payload = [UInt8(bytes.count), 0] + bytes + [UInt8](repeating: 0, count: 8) + [0, 0, 0, 0, 1, 0, 0, 0]
            do {
                guard case .score(let model, _, _, _, _) = try RequestCodec.decode(frame(opcode: 4, payload: payload)) else {
                    Issue.record("not a SCORE request")
                    continue
                }
                #expect(model == reference)
            } catch {
                #expect(reference == nil && error.code == .malformedFrame, "bytes \(bytes)")
            }
        }
    }

    /// Every cut of a valid SCORE payload is refused as malformed, naming the field it falls in.
    @Test func truncatedScorePayloadsNameTheMissingField() {
        // Model "m", fingerprint, 1 row × 2 features, two floats.
        let payload: [UInt8] = [1, 0, 109] + [UInt8](repeating: 7, count: 8) + [1, 0, 0, 0, 2, 0, 0, 0]
            + [UInt8](repeating: 0, count: 8)
        guard case .score(let model, _, let rows, let features, _) = try? RequestCodec.decode(frame(opcode: 4, payload: payload))
        else { Issue.record("the whole payload should decode"); return }
        #expect(model == "m" && rows == 1 && features == 2)
        for cut in 0..<payload.count {
            let error = #expect(throws: ProtocolError.self) {
                try RequestCodec.decode(frame(opcode: 4, payload: Array(payload.prefix(cut))))
            }
            #expect(error?.code == .malformedFrame)
            let field = switch cut {
            case 0..<3: "model name runs past"
            case 3..<11: "schema fingerprint runs past"
            case 11..<15: "row count runs past"
            case 15..<19: "feature count runs past"
            default: "do not match"
            }
            #expect(error?.message.contains(field) == true, "cut at \(cut): \(error?.message ?? "")")
        }
    }

    /// The NIO-free header reader sees what the codec wrote, at any offset, and nothing from a short buffer.
    @Test func frameHeaderReadsRawBytes() {
        var buffer = ByteBuffer(bytes: [0xAA, 0xBB])
        RequestCodec.encode(.ping, requestID: 0x0102_0304, into: &buffer)
        let bytes = Array(buffer.readableBytesView)
        bytes.withUnsafeBytes { raw in
            let header = FrameHeader(raw, at: 2)
            #expect(header == FrameHeader(raw, at: 2))
            #expect(header?.length == WireProtocol.headerSize)
            #expect(header?.frameBytes == FrameHeader.size)
            #expect(header?.version == WireProtocol.version)
            #expect(header?.opcode == Opcode.ping.rawValue)
            #expect(header?.requestID == 0x0102_0304)
            #expect(header?.payloadBytes == 0)
            #expect(FrameHeader(raw, at: 3) == nil)
            #expect(FrameHeader(UnsafeRawBufferPointer(rebasing: raw[0..<11])) == nil)
        }
    }
}
