import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import PropensityServer
import PropensityTestSupport
import Testing

@testable import PropensityGRPC

/// `grpc-timeout`: read as gRPC over HTTP/2 defines it, and a call whose deadline passed before its answer was ready
/// is answered DEADLINE_EXCEEDED (frames driven through the connection handler directly, so that no client's own
/// deadline handling stands in between).
@Suite struct GRPCDeadlineTests {
    @Test func timeoutsAreReadInEveryUnit() throws {
        #expect(try GRPCConnectionHandler.timeout(nil) == nil)
        #expect(try GRPCConnectionHandler.timeout("2H") == .hours(2))
        #expect(try GRPCConnectionHandler.timeout("3M") == .minutes(3))
        #expect(try GRPCConnectionHandler.timeout("10S") == .seconds(10))
        #expect(try GRPCConnectionHandler.timeout("250m") == .milliseconds(250))
        #expect(try GRPCConnectionHandler.timeout("99999999u") == .microseconds(99_999_999))
        #expect(try GRPCConnectionHandler.timeout("1n") == .nanoseconds(1))
        #expect(try GRPCConnectionHandler.timeout("99999999H") == nil)  // beyond what a clock can add: no deadline
        for bad in ["", "S", "10", "10s", "123456789S", "-1S", "1.5S", " 1S"] {
            #expect(throws: GRPCStatus.self, "\(bad)") { try GRPCConnectionHandler.timeout(bad) }
        }
    }

    @Test func aPassedDeadlineIsDeadlineExceeded() throws {
        let registry = ModelRegistry()
        registry.add(TestModels.logistic, name: "conv")
        let service = InferenceGRPCService(service: InferenceService(registry: registry, serverVersion: "test"))
        let channel = EmbeddedChannel(handler: GRPCConnectionHandler(service: service, maxMessageBytes: 1_000))
        /// A ServerLive call on `stream` (an empty message), and the `grpc-status` the stream ends with.
        func status(stream: Int, timeout: String?) throws -> String? {
            var headers = HPACKHeaders([
                (":method", "POST"), (":scheme", "http"), (":path", "/inference.GRPCInferenceService/ServerLive"),
                ("content-type", "application/grpc"), ("te", "trailers"),
            ])
            if let timeout { headers.add(name: "grpc-timeout", value: timeout) }
            let id = HTTP2StreamID(stream)
            try channel.writeInbound(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers))))
            var message = channel.allocator.buffer(capacity: 5)
            message.writeInteger(UInt8(0))
            message.writeInteger(UInt32(0))
            try channel.writeInbound(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(message), endStream: true))))
            var last: String?
            while let frame = try channel.readOutbound(as: HTTP2Frame.self) {
                #expect(frame.streamID == id)
                if case .headers(let answer) = frame.payload, answer.endStream {
                    last = answer.headers.first(name: "grpc-status")
                }
            }
            return last
        }
        #expect(try status(stream: 1, timeout: nil) == "0")
        #expect(try status(stream: 3, timeout: "10S") == "0")
        #expect(try status(stream: 5, timeout: "1n") == "4")  // DEADLINE_EXCEEDED
        #expect(try status(stream: 7, timeout: "soon") == "13")  // malformed: INTERNAL, as grpc-go answers
        #expect(try status(stream: 9, timeout: "10S") == "0")  // the connection goes on
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
