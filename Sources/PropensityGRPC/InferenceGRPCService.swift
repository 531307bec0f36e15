import Foundation
import GRPCCore
import PropensityServer

/// The Open Inference Protocol's `inference.GRPCInferenceService` over the transport-free `InferenceService`: the
/// same registry, readiness, limits, metrics and answers as the HTTP port, in protobuf. Infer answers carry their
/// outputs in `raw_output_contents` (little-endian), as Triton does; tritonclient's `as_numpy` reads them.
struct InferenceGRPCService: Inference_GRPCInferenceService.SimpleServiceProtocol {
    let service: InferenceService

    func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws -> Inference_ServerLiveResponse {
        .with { $0.live = true }
    }

    func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws -> Inference_ServerReadyResponse {
        .with { $0.ready = service.isReady }
    }

    func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws -> Inference_ModelReadyResponse {
        _ = try answer { () throws(InferenceError) in try service.model(name: request.name, version: request.version) }
        return .with { $0.ready = service.modelsAccepting }
    }

    func serverMetadata(
        request: Inference_ServerMetadataRequest, context: ServerContext
    ) async throws -> Inference_ServerMetadataResponse {
        .with {
            $0.name = "propensity"
            $0.version = service.serverVersion
            $0.extensions = []
        }
    }

    func modelMetadata(
        request: Inference_ModelMetadataRequest, context: ServerContext
    ) async throws -> Inference_ModelMetadataResponse {
        let metadata = try answer { () throws(InferenceError) in
            service.metadata(try service.model(name: request.name, version: request.version))
        }
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

    func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws -> Inference_ModelInferResponse {
        let inference = try answer { () throws(InferenceError) in
            let decoded = try InferenceRequest(request)
            if let key = decoded.visitorKey {
                // A route (experiments file): the visitor's variant answers; routes have no versions.
                guard request.modelVersion.isEmpty else { throw .routeNotFound(request.modelName + "/versions/" + request.modelVersion) }
                return try service.evaluateRouted(route: request.modelName, visitorKey: key, decoded)
            }
            let served = try service.model(name: request.modelName, version: request.modelVersion)
            return try service.evaluate(served, decoded)
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

    /// Runs `body`, turning the protocol's errors into gRPC statuses.
    private func answer<T>(_ body: () throws(InferenceError) -> T) throws(RPCError) -> T {
        do {
            return try body()
        } catch {
            throw error.rpcError
        }
    }
}
