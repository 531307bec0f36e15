import Dispatch
import Foundation
import NIOHTTP1
import PropensityModel
import PropensityProtocol
import PropensityScoring

/// The Open Inference Protocol (KServe v2) over HTTP, apart from the transport: a request's method, path, headers
/// and body in, a status, headers and body out. It answers from the same registry as the binary port, so reloads
/// and removals apply to both at once.
///
/// Endpoints: `GET /v2/health/live`, `/v2/health/ready`, `/v2` (server metadata), `/v2/models/M[/versions/V]`
/// (model metadata), `…/ready`, and `POST …/infer`. See docs/inference-protocol.md.
public struct InferenceService: Sendable {
    public let registry: ModelRegistry
    public let serverVersion: String
    let metrics: ServerMetrics
    let maxRows: Int
    let maxRowsPerExplain: Int
    /// The bearer token requests must carry, when the server requires one (read per request: it rotates).
    let token: @Sendable () -> [UInt8]?
    /// Whether the server takes traffic (false while shutting down): `/v2/health/ready` and model readiness.
    let accepting: @Sendable () -> Bool
    /// The routes a request with a `visitor_key` names (the binary port's, with its shadow scorer).
    let experiments: ServedExperiments?

    public init(
        registry: ModelRegistry, serverVersion: String, metrics: ServerMetrics = ServerMetrics(),
        limits: ServerLimits = ServerLimits(), token: @escaping @Sendable () -> [UInt8]? = { nil },
        accepting: @escaping @Sendable () -> Bool = { true }, experiments: ServedExperiments? = nil
    ) {
        self.experiments = experiments
        self.registry = registry
        self.serverVersion = serverVersion
        self.metrics = metrics
        self.maxRows = limits.maxRowsPerRequest
        self.maxRowsPerExplain = limits.maxRowsPerExplain
        self.token = token
        self.accepting = accepting
    }

    public struct Response: Sendable {
        public var status: HTTPResponseStatus
        public var body: [UInt8]
        public var contentType: String? = "application/json"
        /// The binary-tensor extension's header: the JSON part's length when binary outputs follow it.
        public var jsonLength: Int?
    }

    /// - Parameters:
    ///   - authorization: the `Authorization` header, if any.
    ///   - jsonLength: the `Inference-Header-Content-Length` header, if any.
    public func respond(
        method: String, path: String, authorization: String?, jsonLength: Int?, body: [UInt8]
    ) -> Response {
        do throws(InferenceError) {
            return try route(method: method, path: path, authorization: authorization, jsonLength: jsonLength, body: body)
        } catch {
            return Self.failure(error)
        }
    }

    static func failure(_ error: InferenceError) -> Response {
        var json = JSONText()
        json.raw("{")
        json.key("error", first: true)
        json.string(error.message)
        json.raw("}")
        return Response(status: error.status, body: json.bytes)
    }

    private func route(
        method: String, path: String, authorization: String?, jsonLength: Int?, body: [UInt8]
    ) throws(InferenceError) -> Response {
        // Query strings carry nothing this protocol defines.
        let clean = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        let parts = clean.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.first == "v2" else { throw .unknownPath(Self.clip(clean)) }
        // Liveness answers without a token (as a load balancer probes it); everything else needs one when set.
        if parts == ["v2", "health", "live"] {
            try expect(method, "GET")
            return Response(status: .ok, body: [], contentType: nil)
        }
        try authorize(authorization)
        switch parts.count {
        case 1:
            try expect(method, "GET")
            return Response(status: .ok, body: serverMetadata())
        case 3 where parts[1] == "health" && parts[2] == "ready":
            try expect(method, "GET")
            return Response(status: isReady ? .ok : .serviceUnavailable, body: [], contentType: nil)
        default: break
        }
        guard parts.count >= 3, parts[1] == "models" else { throw .unknownPath(Self.clip(clean)) }
        // models/NAME, models/NAME/versions/V, then optionally /ready or /infer.
        var rest = Array(parts[3...])
        var address = parts[2]
        var named = parts[2]
        if rest.count >= 2, rest[0] == "versions" {
            address = parts[2] + "@" + rest[1]
            named = parts[2] + "/versions/" + rest[1]
            rest.removeFirst(2)
        }
        switch rest {
        case []:
            try expect(method, "GET")
            guard let served = registry.model(named: address) else { throw .modelNotFound(Self.clip(named)) }
            return Response(status: .ok, body: modelMetadata(served))
        case ["ready"]:
            try expect(method, "GET")
            guard registry.model(named: address) != nil else { throw .modelNotFound(Self.clip(named)) }
            return Response(status: accepting() ? .ok : .serviceUnavailable, body: [], contentType: nil)
        case ["infer"]:
            try expect(method, "POST")
            let request = try InferenceRequest(body: body, jsonLength: jsonLength)
            if let key = request.visitorKey {
                guard address == parts[2] else { throw .routeNotFound(Self.clip(named)) }  // routes have no versions
                return infer(try evaluateRouted(route: address, visitorKey: key, request), request)
            }
            guard let served = registry.model(named: address) else { throw .modelNotFound(Self.clip(named)) }
            return infer(try evaluate(served, request), request)
        default:
            throw .unknownPath(Self.clip(clean))
        }
    }

    /// A name from the request as it may appear in an answer: at most 64 characters.
    static func clip(_ text: String) -> String { text.count <= 64 ? text : String(text.prefix(64)) + "…" }

    private func expect(_ method: String, _ allowed: String) throws(InferenceError) {
        guard method == allowed else { throw .methodNotAllowed(Self.clip(method)) }
    }

    /// Whether the server takes traffic: a model is loaded and it is not shutting down.
    package var isReady: Bool { accepting() && !registry.all.isEmpty }

    /// Whether a served model answers (false while shutting down).
    package var modelsAccepting: Bool { accepting() }

    /// A model by name and version (empty: the newest version), as an answer may name it.
    package func model(name: String, version: String) throws(InferenceError) -> ServedModel {
        let address = version.isEmpty ? name : name + "@" + version
        guard let served = registry.model(named: address) else {
            throw .modelNotFound(Self.clip(version.isEmpty ? name : name + "/versions/" + version))
        }
        return served
    }

    /// Checks an `Authorization` header (HTTP) or metadata entry (gRPC) against the server's token, when it has one.
    package func authorize(_ header: String?) throws(InferenceError) {
        guard let expected = token() else { return }
        guard let header, header.hasPrefix("Bearer ") else { throw .unauthorized }
        let given = Array(header.utf8.dropFirst("Bearer ".utf8.count))
        // Constant time in the token's content (the length is not secret: it is fixed by the operator).
        guard given.count == expected.count else { throw .unauthorized }
        var difference: UInt8 = 0
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        guard difference == 0 else { throw .unauthorized }
    }

    private func serverMetadata() -> [UInt8] {
        var json = JSONText()
        json.raw("{")
        json.key("name", first: true); json.string("propensity")
        json.key("version"); json.string(serverVersion)
        json.key("extensions"); json.raw("[\"binary_tensor_data\"]")
        json.raw("}")
        return json.bytes
    }

    /// A model's metadata, whatever the transport: inputs one per feature (FP32, or BYTES for a categorical one:
    /// the category's name), outputs `probability` and, when the model can explain, `contributions`.
    package struct ModelMetadata {
        package struct Tensor {
            package var name: String
            package var datatype: String
            package var shape: [Int]
        }
        package var name: String
        package var versions: [String]
        package var platform: String
        package var inputs: [Tensor]
        package var outputs: [Tensor]
    }

    package func metadata(_ served: ServedModel) -> ModelMetadata {
        var outputs = [ModelMetadata.Tensor(name: "probability", datatype: "FP32", shape: [-1])]
        if served.explainer != nil {
            outputs.append(.init(name: "contributions", datatype: "FP64", shape: [-1, served.model.schema.count + 1]))
        }
        return ModelMetadata(
            name: served.name, versions: registry.all.filter { $0.name == served.name }.map(\.version),
            platform: "propensity_" + served.model.kind.name,
            inputs: served.model.schema.features.map {
                .init(name: $0.name, datatype: $0.kind.categories == nil ? "FP32" : "BYTES", shape: [-1])
            },
            outputs: outputs)
    }

    private func modelMetadata(_ served: ServedModel) -> [UInt8] {
        let metadata = metadata(served)
        var json = JSONText()
        json.raw("{")
        json.key("name", first: true); json.string(metadata.name)
        json.key("versions"); json.raw("[")
        for (i, v) in metadata.versions.enumerated() {
            if i > 0 { json.raw(",") }
            json.string(v)
        }
        json.raw("]")
        json.key("platform"); json.string(metadata.platform)
        for (key, tensors) in [("inputs", metadata.inputs), ("outputs", metadata.outputs)] {
            json.key(key); json.raw("[")
            for (i, tensor) in tensors.enumerated() {
                if i > 0 { json.raw(",") }
                json.raw("{")
                json.key("name", first: true); json.string(tensor.name)
                json.key("datatype"); json.string(tensor.datatype)
                json.key("shape"); json.integers(tensor.shape)
                json.raw("}")
            }
            json.raw("]")
        }
        json.raw("}")
        return json.bytes
    }

    /// An infer request's answer before any encoding: the outputs asked for (`probability` when none), each row's
    /// probability and, when asked, its contributions.
    package struct Inference {
        package var served: ServedModel
        /// The name the answer gives (`model_name`): the model's, or the route's when routed.
        package var answeredName: String
        /// The rows as scored (row-major float32), for shadows.
        var features: [Float]
        package var rowCount: Int
        package var outputs: [InferenceRequest.RequestedOutput]
        package var scores: [Float]
        package var contributions: [Contributions]

        /// Per row, each column's contribution in schema order, then the bias: the margin is their sum (as XGBoost's
        /// pred_contribs), `[rowCount, columns + 1]`.
        package var contributionValues: [Double] { contributions.flatMap { $0.values + [$0.bias] } }
        package var contributionWidth: Int { served.model.schema.count + 1 }
    }

    /// Scores (and explains, when asked) a decoded request, counting it in the model's metrics.
    package func evaluate(_ served: ServedModel, _ request: InferenceRequest) throws(InferenceError) -> Inference {
        let start = DispatchTime.now().uptimeNanoseconds
        let wantsContributions = request.outputs.contains { $0.name == "contributions" }
        for output in request.outputs where output.name != "probability" && output.name != "contributions" {
            throw .unknownOutput(Self.clip(output.name))
        }
        let (features, rowCount) = try InferenceRows.rows(
            request, schema: served.model.schema, maxRows: wantsContributions ? min(maxRows, maxRowsPerExplain) : maxRows)
        var explanations: [Contributions] = []
        if wantsContributions {
            guard let explainer = served.explainer else { throw .cannotExplain(served.name) }
            explanations = explainer.explain(rows: features)
        }
        let scores = rowCount == 0 ? [] : served.scorer.score(features)
        let model = metrics.model(served.name)
        model.requests.increment()
        model.rows.increment(by: rowCount)
        model.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
        return Inference(
            served: served, answeredName: served.name, features: features, rowCount: rowCount,
            outputs: request.outputs.isEmpty ? [.init(name: "probability", binary: nil)] : request.outputs,
            scores: scores, contributions: explanations)
    }

    /// A routed infer request (one with a `visitor_key`): the route's variant for this visitor answers, as ROUTE_SCORE
    /// on the binary port (the same assignment), counted in the route's variant metrics; the route's shadows that fit
    /// the rows get a copy for the background scorer. The answer names the route and, as its version, the variant.
    package func evaluateRouted(
        route name: String, visitorKey: String, _ request: InferenceRequest
    ) throws(InferenceError) -> Inference {
        let start = DispatchTime.now().uptimeNanoseconds
        guard let experiments, let route = experiments.routes.route(named: name) else {
            throw .routeNotFound(Self.clip(name))
        }
        do throws(InferenceError) {
            return try evaluateVariant(of: route, experiments, visitorKey: visitorKey, request, start: start)
        } catch {
            // Counted as the binary port counts a ROUTE_SCORE's ERROR answers.
            route.metrics.error(error.protocolCode)
            throw error
        }
    }

    /// The rest of `evaluateRouted` once the route is found.
    private func evaluateVariant(
        of route: RouteTable.ServedRoute, _ experiments: ServedExperiments, visitorKey: String, _ request: InferenceRequest,
        start: UInt64
    ) throws(InferenceError) -> Inference {
        let name = route.route.name
        let key = Array(visitorKey.utf8)
        guard !key.isEmpty, key.count <= maxVisitorKeyBytes else { throw .invalidVisitorKey(length: key.count) }
        let index = route.route.variant(for: key)
        let address = route.route.variants[index].model
        guard let served = registry.model(named: address) else { throw .modelNotFound(Self.clip(address)) }
        var inference = try evaluate(served, request)
        inference.answeredName = name
        let metrics = route.metrics.variants[index]
        for p in inference.scores { metrics.score.record(Double(p)) }
        metrics.requests.increment()
        metrics.rows.increment(by: inference.rowCount)
        metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
        let shadows = route.route.shadows.enumerated().compactMap { position, address in
            registry.model(named: address).flatMap { $0.fingerprint == served.fingerprint ? (position, $0) : nil }
        }
        if !shadows.isEmpty, inference.rowCount > 0, inference.contributions.isEmpty {  // as ROUTE_EXPLAIN: no shadows
            experiments.shadows.submit(ShadowScorer.Job(
                metrics: route.metrics, shadows: shadows, features: inference.features.withUnsafeBytes { Array($0) },
                rowCount: inference.rowCount, answered: inference.scores))
        }
        // Sampled as the binary port samples ROUTE_SCORE (ROUTE_EXPLAIN is not fed), counted over both ports.
        if let sampleLog = experiments.sampleLog, inference.rowCount > 0, inference.contributions.isEmpty,
            sampleLog.takeSample()
        {
            sampleLog.offer(SampleLog.Record(
                model: served, route: name, key: key, features: inference.features, scores: inference.scores,
                time: Date()))
        }
        return inference
    }

    private func infer(_ inference: Inference, _ request: InferenceRequest) -> Response {
        let served = inference.served
        let rowCount = inference.rowCount, scores = inference.scores
        var json = JSONText(capacity: 128 + 24 * scores.count)
        var binary: [UInt8] = []
        json.raw("{")
        json.key("model_name", first: true); json.string(inference.answeredName)
        json.key("model_version"); json.string(inference.answeredName == served.name ? served.version : served.key)
        if let id = request.id { json.key("id"); json.string(id) }
        json.key("outputs"); json.raw("[")
        for (i, output) in inference.outputs.enumerated() {
            if i > 0 { json.raw(",") }
            let inBinary = output.binary ?? request.binaryOutputs
            json.raw("{")
            json.key("name", first: true); json.string(output.name)
            if output.name == "probability" {
                json.key("datatype"); json.string("FP32")
                json.key("shape"); json.integers([rowCount])
                if inBinary {
                    json.key("parameters"); json.raw("{\"binary_data_size\":\(4 * rowCount)}")
                    for p in scores { withUnsafeBytes(of: p.bitPattern.littleEndian) { binary.append(contentsOf: $0) } }
                } else {
                    json.key("data"); json.raw("[")
                    for (r, p) in scores.enumerated() {
                        if r > 0 { json.raw(",") }
                        json.number(p)
                    }
                    json.raw("]")
                }
            } else {
                json.key("datatype"); json.string("FP64")
                json.key("shape"); json.integers([rowCount, inference.contributionWidth])
                let values = inference.contributionValues
                if inBinary {
                    json.key("parameters"); json.raw("{\"binary_data_size\":\(8 * values.count)}")
                    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { binary.append(contentsOf: $0) } }
                } else {
                    json.key("data"); json.raw("[")
                    for (k, v) in values.enumerated() {
                        if k > 0 { json.raw(",") }
                        json.number(v)
                    }
                    json.raw("]")
                }
            }
            json.raw("}")
        }
        json.raw("]}")
        if binary.isEmpty && !inference.outputs.contains(where: { $0.binary ?? request.binaryOutputs }) {
            return Response(status: .ok, body: json.bytes)
        }
        let length = json.bytes.count
        return Response(status: .ok, body: json.bytes + binary, contentType: "application/octet-stream", jsonLength: length)
    }
}
