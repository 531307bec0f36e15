import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import PropensityServer
import PropensityTestSupport
import Testing

@testable import PropensityGRPC

/// The gRPC mapping of `GRPCStreamHandler`, driven by grpc-swift's client with raw bytes: calls it cannot answer
/// get the status gRPC defines (as Trailers-Only responses), the connection keeps serving, and graceful shutdown
/// lets the server return.
@Suite struct GRPCTransportTests {
    /// Sends and receives message bytes as they are, so that anything can be put on the wire.
    struct RawBytes: MessageSerializer, MessageDeserializer {
        func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
        func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> [UInt8] {
            bytes.withUnsafeBytes { Array($0) }
        }
    }

    /// A call with a deadline, so that a stalled stream fails the test instead of hanging it.
    func call(_ client: GRPCClient<HTTP2ClientTransport.Posix>, method: String, _ bytes: [UInt8]) async throws -> [UInt8] {
        var options = CallOptions.defaults
        options.timeout = .seconds(20)
        return try await client.unary(
            request: ClientRequest(message: bytes),
            descriptor: MethodDescriptor(fullyQualifiedService: "inference.GRPCInferenceService", method: method),
            serializer: RawBytes(), deserializer: RawBytes(), options: options
        ) { try $0.message }
    }

    func status(_ body: () async throws -> Void) async -> RPCError.Code? {
        do {
            try await body()
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }

    @Test func refusalsAreStatusesAndTheConnectionGoesOn() async throws {
        let registry = ModelRegistry()
        registry.add(TestModels.logistic, name: "conv")
        var limits = ServerLimits()
        limits.maxFrameBytes = 1_000
        let server = InferenceGRPCServer(
            host: "127.0.0.1", port: 0, service: InferenceService(registry: registry, serverVersion: "test"), limits: limits)
        try await withLoopbackClient(server) { client in
            #expect(await status { _ = try await call(client, method: "ModelTrain", []) } == .unimplemented)
            // Field 1 as a varint with its value cut off: not a ModelInferRequest.
            #expect(await status { _ = try await call(client, method: "ModelInfer", [0x08]) } == .invalidArgument)
            #expect(await status {
                _ = try await call(client, method: "ModelInfer", [UInt8](repeating: 0, count: 2_000))
            } == .resourceExhausted)
            // An empty ModelInferRequest names no inputs; an empty ServerLive request is a valid message.
            #expect(await status { _ = try await call(client, method: "ModelInfer", []) } == .invalidArgument)
            let live = try Inference_ServerLiveResponse(serializedBytes: try await call(client, method: "ServerLive", []))
            #expect(live.live)
        }
    }

    /// Messages larger than HTTP/2's initial windows (65,535 bytes for the connection and for each stream) get in:
    /// the handler gives both windows back as the DATA arrives, over many calls on one connection.
    @Test func largeMessagesFlowThroughTheWindows() async throws {
        let registry = ModelRegistry()
        registry.add(TestModels.logistic, name: "conv")
        var limits = ServerLimits()
        limits.maxRowsPerRequest = 20_000
        let server = InferenceGRPCServer(
            host: "127.0.0.1", port: 0, service: InferenceService(registry: registry, serverVersion: "test", limits: limits),
            limits: limits)
        let rows = 12_000  // 3 float32 features: 144,000 bytes of raw contents per call
        var request = Inference_ModelInferRequest()
        request.modelName = "conv"
        request.inputs = [.with {
            $0.name = "input"
            $0.datatype = "FP32"
            $0.shape = [Int64(rows), 3]
        }]
        var raw = [UInt8]()
        for r in 0..<rows {
            for x: Float in [Float(r % 90), Float(r % 2), Float(r % 7)] {
                withUnsafeBytes(of: x.bitPattern.littleEndian) { raw.append(contentsOf: $0) }
            }
        }
        request.rawInputContents = [Data(raw)]
        let bytes: [UInt8] = try request.serializedBytes()
        try await withLoopbackClient(server) { client in
            for _ in 0..<8 {
                let answer = try Inference_ModelInferResponse(
                    serializedBytes: try await call(client, method: "ModelInfer", bytes))
                #expect(answer.rawOutputContents.first?.count == 4 * rows)
            }
        }
    }

    @Test func statusMessagesArePercentEncoded() {
        let status = GRPCStatus(code: .invalidArgument, message: "50% of 'wiek' is ż\n")
        #expect(status.encodedMessage == "50%25 of 'wiek' is %C5%BC%0A")
        #expect(InferenceError.tooManyRows(5, limit: 2).grpcStatus.code == .resourceExhausted)
        #expect(InferenceError.unauthorized.grpcStatus.code == .unauthenticated)
        #expect(InferenceError.modelNotFound("m").grpcStatus.code == .notFound)
        #expect(InferenceError.missingField("inputs").grpcStatus.code == .invalidArgument)
    }

    @Test func methodsAreFoundByTheirPath() {
        #expect(InferenceGRPCService.Method(path: "/inference.GRPCInferenceService/ModelInfer") == .modelInfer)
        #expect(InferenceGRPCService.Method(path: "/inference.GRPCInferenceService/ServerLive")?.needsToken == false)
        #expect(InferenceGRPCService.Method(path: "/other.Service/ModelInfer") == nil)
        #expect(InferenceGRPCService.Method(path: "/inference.GRPCInferenceService/") == nil)
    }
}
