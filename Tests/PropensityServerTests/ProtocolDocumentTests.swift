import Foundation
import NIOCore
import PropensityClient
import PropensityProtocol
import PropensityServer
import PropensityTestSupport
import Testing

/// Byte-level cases behind statements of docs/protocol.md that an independent client relied on (issue 11).
@Suite(.serialized) struct ProtocolDocumentTests {
    /// One frame: length, version, opcode, flags, id, payload.
    func frame(opcode: UInt8, id: UInt32, version: UInt8 = 1, payload: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(8 + payload.count).littleEndian) { bytes += $0 }
        bytes += [version, opcode, 0, 0]
        withUnsafeBytes(of: id.littleEndian) { bytes += $0 }
        return bytes + payload
    }

    /// (opcode, request id, error code or nil) of each frame in `bytes`.
    func answers(_ bytes: [UInt8]) -> [(UInt8, UInt32, UInt16?)] {
        var out: [(UInt8, UInt32, UInt16?)] = []
        var i = 0
        while i + 12 <= bytes.count {
            let length = Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
            let id = UInt32(bytes[i + 8]) | UInt32(bytes[i + 9]) << 8 | UInt32(bytes[i + 10]) << 16 | UInt32(bytes[i + 11]) << 24
            let code = bytes[i + 5] == 0xFF ? UInt16(bytes[i + 12]) | UInt16(bytes[i + 13]) << 8 : nil
            out.append((bytes[i + 5], id, code))
            i += 4 + length
        }
        return out
    }

    func exchange(_ server: ScoringServer, _ bytes: [UInt8], expect: Int) async throws -> [(UInt8, UInt32, UInt16?)] {
        let port = server.port
        return answers(try await onThread { try rawExchange(port: port, send: bytes, expect: expect) })
    }

    @Test func requestIdZeroIsAnsweredLikeAnyOther() async throws {
        let server = try await TestServer.start()
        let reply = try await exchange(server, frame(opcode: 0x01, id: 0), expect: 1)
        #expect(reply.count == 1 && reply[0].0 == Opcode.pong.rawValue && reply[0].1 == 0)
        try await server.close()
    }

    @Test func aLengthBelowEightIsMalformedAndClosesTheConnection() async throws {
        let server = try await TestServer.start()
        let reply = try await exchange(server, [7, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0] + frame(opcode: 0x01, id: 2), expect: 2)
        #expect(reply.count == 1 && reply[0].1 == 0 && reply[0].2 == ErrorCode.malformedFrame.rawValue)
        try await server.close()
    }

    @Test func theFrameLimitCountsTheBytesAfterTheLengthField() async throws {
        var options = ServerOptions()
        options.limits.maxFrameBytes = 64
        let server = try await TestServer.start(options: options)
        // Exactly 64 bytes after the length field: accepted (an unknown opcode, so a per-request error, not a close).
        let atLimit = frame(opcode: 0x7E, id: 1, payload: [UInt8](repeating: 0, count: 56))
        let ok = try await exchange(server, atLimit + frame(opcode: 0x01, id: 2), expect: 2)
        #expect(ok.map(\.2) == [ErrorCode.unknownOpcode.rawValue, nil])
        let over = try await exchange(server, frame(opcode: 0x7E, id: 1, payload: [UInt8](repeating: 0, count: 57)), expect: 1)
        #expect(over.count == 1 && over[0].1 == 0 && over[0].2 == ErrorCode.frameTooLarge.rawValue)
        try await server.close()
    }

    /// The payload's structure is checked before the row limit: too many rows in a payload too short for them is 1.
    @Test func checksRunInTheDocumentedOrder() async throws {
        var options = ServerOptions()
        options.limits.maxRowsPerRequest = 2
        let server = try await TestServer.start(options: options)
        var payload: [UInt8] = [4, 0] + Array("conv".utf8) + [UInt8](repeating: 0, count: 8)
        withUnsafeBytes(of: UInt32(1000).littleEndian) { payload += $0 }
        withUnsafeBytes(of: UInt32(3).littleEndian) { payload += $0 }
        let reply = try await exchange(server, frame(opcode: 0x04, id: 5, payload: payload), expect: 1)
        #expect(reply.map(\.2) == [ErrorCode.malformedFrame.rawValue])
        // Version before opcode before payload: a bad version with an unknown opcode and no payload is 2.
        let version = try await exchange(server, frame(opcode: 0x7E, id: 6, version: 9), expect: 1)
        #expect(version.map(\.2) == [ErrorCode.unsupportedVersion.rawValue])
        try await server.close()
    }

    /// Before AUTH, a frame that does not parse gets its parse error (1, 2 or 4), not 30.
    @Test func malformedFramesBeforeAuthGetTheirParseError() async throws {
        var options = ServerOptions()
        options.token = Array("correct horse battery staple".utf8)
        let server = try await TestServer.start(options: options)
        let bytes = frame(opcode: 0x03, id: 1, payload: [9, 0, 1]) + frame(opcode: 0x01, id: 2, version: 3)
            + frame(opcode: 0x7E, id: 3) + frame(opcode: 0x01, id: 4)
        let reply = try await exchange(server, bytes, expect: 4)
        #expect(reply.map(\.2) == [1, 2, 4, 30])
        try await server.close()
    }

    @Test func modelInfoForNameAtVersionReturnsTheBareNameAndTheVersion() async throws {
        let server = try await TestServer.start()
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        let info = try await client.modelInfo("conv@1")
        #expect(info.name == "conv" && info.version == "1")
        try await client.close()
        try await server.close()
    }

    /// A rotated token (SIGHUP in `serve`) is required from then on; connections already in stay in.
    @Test func aReplacedTokenIsRequiredFromThenOn() async throws {
        var options = ServerOptions()
        options.token = Array("the first token, long enough".utf8)
        let server = try await TestServer.start(options: options)
        let early = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        _ = try await early.send(.auth(token: options.token!))
        #expect(server.replaceToken(with: Array("the second token, also long".utf8)))
        try await early.ping()
        let late = try await PropensityClient.connect(host: "127.0.0.1", port: server.port)
        await expectServerError(.unauthorized) { _ = try await late.send(.auth(token: options.token!)) }
        _ = try await late.send(.auth(token: Array("the second token, also long".utf8)))
        try await late.ping()
        try await early.close()
        try await late.close()
        try await server.close()
    }
}
