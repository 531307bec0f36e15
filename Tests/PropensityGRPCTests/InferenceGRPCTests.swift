import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import PropensityModel
import PropensityScoring
import PropensityServer
import PropensityTestSupport
import Testing

@testable import PropensityGRPC

/// The Open Inference Protocol over gRPC: requests read from protobuf in both element forms (each bad one by its
/// `InferenceError` case), and a real server on loopback driven by grpc-swift's client: scores equal the scorer's,
/// contributions, metadata, and errors as gRPC status codes.
@Suite struct InferenceGRPCTests {
    /// Rows of the logistic test model: age, device (index), visits.
    let rows: [[Float]] = [[35, 0, 3], [61.5, 1, 0], [.nan, 0, 7]]
    var expected: [Float] { Scorer(model: TestModels.logistic).score(rows.flatMap { $0 }) }

    func matrixRequest(raw: Bool) -> Inference_ModelInferRequest {
        .with {
            $0.modelName = "conv"
            $0.inputs = [.with {
                $0.name = "input"
                $0.datatype = "FP32"
                $0.shape = [Int64(rows.count), 3]
                if !raw { $0.contents.fp32Contents = rows.flatMap { $0 } }
            }]
            if raw {
                var bytes = Data()
                for x in rows.flatMap({ $0 }) { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                $0.rawInputContents = [bytes]
            }
        }
    }

    func input(_ name: String, _ datatype: String, _ shape: [Int64], _ fill: (inout Inference_InferTensorContents) -> Void)
        -> Inference_ModelInferRequest.InferInputTensor
    {
        .with {
            $0.name = name
            $0.datatype = datatype
            $0.shape = shape
            fill(&$0.contents)
        }
    }

    @Test func requestsAreReadFromBothElementForms() throws {
        for raw in [false, true] {
            let request = try InferenceRequest(matrixRequest(raw: raw))
            guard case .numbers(let values) = request.inputs[0].data else { Issue.record("not numbers"); continue }
            #expect(values.count == 9 && values[0] == 35 && (values[6].map { $0.isNaN } ?? true))
        }
        // Per feature, typed contents: INT64 for a numeric feature, BYTES categories by name.
        let named = try InferenceRequest(.with {
            $0.inputs = [
                input("age", "INT64", [2]) { $0.int64Contents = [35, 61] },
                input("device", "BYTES", [2]) { $0.bytesContents = [Data("desktop".utf8), Data()] },
                input("visits", "FP64", [2]) { $0.fp64Contents = [3, .nan] },
            ]
            $0.outputs = [.with { $0.name = "contributions" }]
            $0.id = "r1"
        })
        #expect(named.id == "r1" && named.outputs.map(\.name) == ["contributions"])
        guard case .strings(let devices) = named.inputs[1].data, case .numbers(let visits) = named.inputs[2].data else {
            Issue.record("wrong data kinds"); return
        }
        #expect(devices == ["desktop", ""] && visits[1] == nil)
    }

    @Test func badRequestsNameTheirFault() {
        func error(_ request: Inference_ModelInferRequest) -> InferenceError? {
            do { _ = try InferenceRequest(request); return nil } catch { return error }
        }
        #expect(error(.init()) == .missingField("inputs"))
        var twoRaw = matrixRequest(raw: true)
        twoRaw.rawInputContents.append(Data())
        #expect(error(twoRaw) == .badBinaryData("2 raw_input_contents entries for 1 inputs"))
        var both = matrixRequest(raw: true)
        both.inputs[0].contents.fp32Contents = [1]
        #expect(error(both) == .badData(tensor: "input", reason: "has both contents and raw_input_contents"))
        var short = matrixRequest(raw: true)
        short.rawInputContents[0].removeLast(4)
        #expect(error(short) == .badBinaryData("input 'input': 32 bytes for 9 FP32 elements"))
        var wrongField = matrixRequest(raw: false)
        wrongField.inputs[0].datatype = "FP64"
        #expect(error(wrongField) == .badData(tensor: "input", reason: "0 elements in the FP64 contents for a shape of 9"))
        var half = matrixRequest(raw: false)
        half.inputs[0].datatype = "FP16"
        #expect(error(half) == .unsupportedDatatype(tensor: "input", datatype: "FP16"))
        var negative = matrixRequest(raw: false)
        negative.inputs[0].shape = [-1, 3]
        #expect(error(negative) == .badShape(tensor: "input", reason: "shape must hold at least one non-negative dimension"))
        let notUTF8 = Inference_ModelInferRequest.with {
            $0.inputs = [input("device", "BYTES", [1]) { $0.bytesContents = [Data([0xFF, 0xFE])] }]
        }
        #expect(error(notUTF8) == .badData(tensor: "device", reason: "BYTES elements must be UTF-8 category names"))
    }

    @Test func aServerOnLoopbackAnswersTritonsCalls() async throws {
        let registry = ModelRegistry()
        registry.add(TestModels.logistic, name: "conv")
        registry.add(TestModels.trees, name: "trees", version: "7")
        var limits = ServerLimits()
        limits.maxRowsPerRequest = 100
        let routes = RouteTable()
        routes.install([Route(name: "homepage", salt: "s", variants: [.init(model: "conv", basisPoints: 10_000)], shadows: [])])
        let service = InferenceService(
            registry: registry, serverVersion: "test", limits: limits, token: { Array("s3cret-token".utf8) },
            experiments: ServedExperiments(routes: routes))
        let server = InferenceGRPCServer(host: "127.0.0.1", port: 0, service: service, limits: limits)
        try await withLoopbackClient(server) { client in
            let inference = Inference_GRPCInferenceService.Client(wrapping: client)
            let auth: Metadata = ["authorization": "Bearer s3cret-token"]
            #expect(try await inference.serverLive(.init()).live)
            #expect(try await inference.serverReady(.init(), metadata: auth).ready)
            await #expect(throws: RPCError.self) { try await inference.serverReady(.init()) }
            do {
                _ = try await inference.serverReady(.init(), metadata: ["authorization": "Bearer wrong"])
                Issue.record("a wrong token was accepted")
            } catch let error as RPCError {
                #expect(error.code == .unauthenticated)
            }

            let meta = try await inference.modelMetadata(.with { $0.name = "trees" }, metadata: auth)
            #expect(meta.versions == ["7"] && meta.inputs.map(\.datatype) == ["FP32", "BYTES", "FP32"])
            #expect(meta.outputs.map(\.name) == ["probability"])  // no covers: it cannot explain
            let conv = try await inference.modelMetadata(.with { $0.name = "conv" }, metadata: auth)
            #expect(conv.outputs.map(\.name) == ["probability", "contributions"])

            for raw in [false, true] {
                let answer = try await inference.modelInfer(matrixRequest(raw: raw), metadata: auth)
                let got = answer.rawOutputContents[0].withUnsafeBytes { bytes in
                    (0..<rows.count).map { Float(bitPattern: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
                }
                #expect(got.map(\.bitPattern) == expected.map(\.bitPattern))
                #expect(answer.outputs.map(\.name) == ["probability"] && answer.outputs[0].shape == [3])
            }

            // Contributions, per column then the bias, summing to the margin.
            var explain = matrixRequest(raw: true)
            explain.outputs = [.with { $0.name = "probability" }, .with { $0.name = "contributions" }]
            let explained = try await inference.modelInfer(explain, metadata: auth)
            #expect(explained.outputs.map(\.shape) == [[3], [3, 4]])
            let values = explained.rawOutputContents[1].withUnsafeBytes { bytes in
                (0..<12).map { Double(bitPattern: bytes.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian) }
            }
            let p = explained.rawOutputContents[0].withUnsafeBytes { Float(bitPattern: $0.loadUnaligned(as: UInt32.self).littleEndian) }
            let margin = values[0..<4].reduce(0, +)
            #expect(abs(1 / (1 + exp(-margin)) - Double(p)) < 1e-6)

            func code(_ request: Inference_ModelInferRequest) async -> RPCError.Code? {
                do { _ = try await inference.modelInfer(request, metadata: auth); return nil } catch let e as RPCError {
                    return e.code
                } catch { return nil }
            }
            var unknown = matrixRequest(raw: true)
            unknown.modelName = "nope"
            #expect(await code(unknown) == .notFound)
            var version = matrixRequest(raw: true)
            version.modelName = "trees"
            version.modelVersion = "7"
            #expect(await code(version) == nil)
            version.modelVersion = "8"
            #expect(await code(version) == .notFound)
            var bad = matrixRequest(raw: true)
            bad.inputs[0].shape = [3, 4]
            #expect(await code(bad) == .invalidArgument)
            var many = matrixRequest(raw: false)
            many.inputs[0].shape = [101, 3]
            many.inputs[0].contents.fp32Contents = [Float](repeating: 1, count: 303)
            #expect(await code(many) == .resourceExhausted)
            // A visitor_key parameter routes through the experiments file; the answer names route and variant.
            var routed = matrixRequest(raw: true)
            routed.modelName = "homepage"
            routed.parameters["visitor_key"] = .with { $0.stringParam = "visitor-1" }
            let answer = try await inference.modelInfer(routed, metadata: auth)
            #expect(answer.modelName == "homepage" && answer.modelVersion == registry.model(named: "conv")?.key)
            routed.parameters["visitor_key"] = .with { $0.int64Param = 1 }
            #expect(await code(routed) == .invalidArgument)
            routed.modelName = "nope"
            routed.parameters["visitor_key"] = .with { $0.stringParam = "visitor-1" }
            #expect(await code(routed) == .notFound)
            // The connection still serves after the errors.
            #expect(try await inference.serverReady(.init(), metadata: auth).ready)
        }
    }
}

extension InferenceGRPCTests {
    /// With the scorer's certificate and key, the gRPC port speaks TLS: a client that trusts the certificate is
    /// answered, a plaintext one is not.
    @Test func tlsFromTheScorersFiles() async throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PropensityServerTests/Fixtures")
        let cert = fixtures.appendingPathComponent("test-cert.pem").path, key = fixtures.appendingPathComponent("test-key.pem").path
        let registry = ModelRegistry()
        registry.add(TestModels.logistic, name: "conv")
        let server = InferenceGRPCServer(
            host: "127.0.0.1", port: 0, service: InferenceService(registry: registry, serverVersion: "test"),
            tls: .init(certificateChain: cert, privateKey: key))
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            let port = await server.port
            try #require(port > 0)
            let trusted: HTTP2ClientTransport.Posix.TransportSecurity = .tls {
                $0.trustRoots = .certificates([.file(path: cert, format: .pem)])
                $0.serverCertificateVerification = .noHostnameVerification
            }
            try await withGRPCClient(
                transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: trusted)
            ) { client in
                let inference = Inference_GRPCInferenceService.Client(wrapping: client)
                let answer = try await inference.modelInfer(matrixRequest(raw: true))
                #expect(answer.rawOutputContents[0].count == 4 * rows.count)
            }
            try await withGRPCClient(
                transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { client in
                let inference = Inference_GRPCInferenceService.Client(wrapping: client)
                var options = CallOptions.defaults
                options.timeout = .seconds(5)
                await #expect(throws: RPCError.self) { try await inference.serverLive(.init(), options: options) }
            }
            server.beginGracefulShutdown()
        }
    }
}
