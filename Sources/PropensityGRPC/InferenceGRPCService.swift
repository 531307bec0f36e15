import Foundation
import PropensityServer
import SwiftProtobuf

/// The Open Inference Protocol's `inference.GRPCInferenceService` over the transport-free `InferenceService`: the
/// same registry, readiness, limits, metrics and answers as the HTTP port, in protobuf. Infer answers carry their
/// outputs in `raw_output_contents` (little-endian), as Triton does; tritonclient's `as_numpy` reads them.
///
/// Every method is unary and answered synchronously on the connection's event loop (`GRPCConnectionHandler`).
struct InferenceGRPCService: Sendable {
    static let serviceName = "inference.GRPCInferenceService"

    let service: InferenceService

    /// The methods by their name in the call's path (`/inference.GRPCInferenceService/NAME`).
    enum Method: String, Sendable {
        case serverLive = "ServerLive"
        case serverReady = "ServerReady"
        case modelReady = "ModelReady"
        case serverMetadata = "ServerMetadata"
        case modelMetadata = "ModelMetadata"
        case modelInfer = "ModelInfer"

        /// The method a `:path` names; nil for another service or method.
        init?(path: String) {
            let prefix = "/" + InferenceGRPCService.serviceName + "/"
            guard path.hasPrefix(prefix) else { return nil }
            self.init(rawValue: String(path.dropFirst(prefix.count)))
        }

        /// ServerLive answers without a token (liveness probes carry none), like `/v2/health/live`.
        var needsToken: Bool { self != .serverLive }
    }

    /// Answers one call: the request message's bytes in, the response message's bytes out.
    /// - Throws: `GRPCStatus` (INVALID_ARGUMENT for bytes that are not the method's message).
    func call(_ method: Method, request bytes: [UInt8]) throws(GRPCStatus) -> [UInt8] {
        do {
            switch method {
            case .serverLive:
                _ = try Inference_ServerLiveRequest(serializedBytes: bytes)
                return try Inference_ServerLiveResponse.with { $0.live = true }.serializedBytes()
            case .serverReady:
                _ = try Inference_ServerReadyRequest(serializedBytes: bytes)
                return try Inference_ServerReadyResponse.with { $0.ready = service.isReady }.serializedBytes()
            case .modelReady:
                return try modelReady(Inference_ModelReadyRequest(serializedBytes: bytes)).serializedBytes()
            case .serverMetadata:
                _ = try Inference_ServerMetadataRequest(serializedBytes: bytes)
                return try Inference_ServerMetadataResponse.with {
                    $0.name = "propensity"
                    $0.version = service.serverVersion
                    $0.extensions = []
                }.serializedBytes()
            case .modelMetadata:
                return try modelMetadata(Inference_ModelMetadataRequest(serializedBytes: bytes)).serializedBytes()
            case .modelInfer:
                return try modelInfer(Inference_ModelInferRequest(serializedBytes: bytes)).serializedBytes()
            }
        } catch let error as InferenceError {
            throw error.grpcStatus
        } catch let error as BinaryDecodingError {
            throw GRPCStatus(code: .invalidArgument, message: "the request is not a valid \(method.rawValue) message: \(error)")
        } catch {
            throw GRPCStatus(code: .internal, message: "\(error)")
        }
    }

    private func modelReady(_ request: Inference_ModelReadyRequest) throws(InferenceError) -> Inference_ModelReadyResponse {
        _ = try service.model(name: request.name, version: request.version)
        return .with { $0.ready = service.modelsAccepting }
    }

    private func modelMetadata(
        _ request: Inference_ModelMetadataRequest
    ) throws(InferenceError) -> Inference_ModelMetadataResponse {
        let metadata = service.metadata(try service.model(name: request.name, version: request.version))
        func tensor(_ t: InferenceService.ModelMetadata.Tensor) -> Inference_ModelMetadataResponse.TensorMetadata {
            .with {
                $0.name = t.name
                $0.datatype = t.datatype
                $0.shape = t.shape.map(Int64.init)
            }
        }
        return .with {
            $0.name = metadata.name
            $0.versions = metadata.versions
            $0.platform = metadata.platform
            $0.inputs = metadata.inputs.map(tensor)
            $0.outputs = metadata.outputs.map(tensor)
        }
    }

    private func modelInfer(_ request: Inference_ModelInferRequest) throws(InferenceError) -> Inference_ModelInferResponse {
        let decoded = try InferenceRequest(request)
        let inference: InferenceService.Inference
        if let key = decoded.visitorKey {
            // A route (experiments file): the visitor's variant answers; routes have no versions.
            guard request.modelVersion.isEmpty else { throw .routeNotFound(request.modelName + "/versions/" + request.modelVersion) }
            inference = try service.evaluateRouted(route: request.modelName, visitorKey: key, decoded)
        } else {
            inference = try service.evaluate(service.model(name: request.modelName, version: request.modelVersion), decoded)
        }
        var response = Inference_ModelInferResponse()
        let routed = inference.answeredName != inference.served.name
        response.modelName = inference.answeredName
        response.modelVersion = routed ? inference.served.key : inference.served.version
        response.id = request.id
        for output in inference.outputs {
            var tensor = Inference_ModelInferResponse.InferOutputTensor()
            tensor.name = output.name
            var raw = Data()
            if output.name == "probability" {
                tensor.datatype = "FP32"
                tensor.shape = [Int64(inference.rowCount)]
                raw.reserveCapacity(4 * inference.rowCount)
                for p in inference.scores { withUnsafeBytes(of: p.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
            } else {
                tensor.datatype = "FP64"
                tensor.shape = [Int64(inference.rowCount), Int64(inference.contributionWidth)]
                let values = inference.contributionValues
                raw.reserveCapacity(8 * values.count)
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
            }
            response.outputs.append(tensor)
            response.rawOutputContents.append(raw)
        }
        return response
    }
}
