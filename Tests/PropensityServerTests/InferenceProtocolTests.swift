import Foundation
import NIOCore
import PropensityClient
import PropensityModel
import PropensityModelFile
import PropensityScoring
import PropensityServer
import PropensityTestSupport
import Testing

/// The Open Inference Protocol over HTTP: metadata, infer in every input form, binary tensors, errors (each case
/// by its `InferenceError`), and the HTTP port's limits with the binary port serving throughout.
@Suite struct InferenceProtocolTests {
    let registry: ModelRegistry
    let service: InferenceService

    init() {
        registry = ModelRegistry()
        registry.add(TestModels.logistic, name: "conv")
        registry.add(TestModels.trees, name: "trees", version: "7")
        service = InferenceService(registry: registry, serverVersion: "test")
    }

    func post(_ path: String, _ json: String, binary: [UInt8] = [], service: InferenceService? = nil,
              authorization: String? = nil) -> InferenceService.Response {
        let body = Array(json.utf8) + binary
        return (service ?? self.service).respond(
            method: "POST", path: path, authorization: authorization, jsonLength: binary.isEmpty ? nil : json.utf8.count,
            body: body)
    }

    func get(_ path: String) -> InferenceService.Response {
        service.respond(method: "GET", path: path, authorization: nil, jsonLength: nil, body: [])
    }

    func json(_ response: InferenceService.Response) throws -> [String: Any] {
        let length = response.jsonLength ?? response.body.count
        return try #require(JSONSerialization.jsonObject(with: Data(response.body.prefix(length))) as? [String: Any])
    }

    func expectError(_ response: InferenceService.Response, _ error: InferenceError) throws {
        #expect(response.status == error.status)
        #expect(try json(response)["error"] as? String == error.message)
    }

    /// Rows of the logistic test model: age, device (index), visits.
    let rows: [[Float]] = [[35, 0, 3], [61.5, 1, 0], [.nan, 0, 7]]
    var expected: [Float] { Scorer(model: TestModels.logistic).score(rows.flatMap { $0 }) }

    /// The probabilities of a JSON answer, read back exactly (each is the shortest text of a float32).
    func probabilities(_ response: InferenceService.Response) throws -> [Float] {
        let text = String(decoding: response.body, as: UTF8.self)
        let data = try #require(text.range(of: "\"data\":[")).upperBound
        let end = try #require(text[data...].firstIndex(of: "]"))
        return text[data..<end].split(separator: ",").map { Float(String($0))! }
    }

    @Test func metadataDescribesTheServerAndEachModel() throws {
        #expect(get("/v2/health/live").status == .ok)
        #expect(get("/v2/health/ready").status == .ok)
        let server = try json(get("/v2"))
        #expect(server["name"] as? String == "propensity" && server["version"] as? String == "test")
        #expect(server["extensions"] as? [String] == ["binary_tensor_data"])
        let model = try json(get("/v2/models/conv"))
        #expect(model["name"] as? String == "conv" && model["versions"] as? [String] == ["1"])
        let inputs = try #require(model["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["name"] as? String } == ["age", "device", "visits"])
        #expect(inputs.map { $0["datatype"] as? String } == ["FP32", "BYTES", "FP32"])
        let outputs = try #require(model["outputs"] as? [[String: Any]])
        #expect(outputs.map { $0["name"] as? String } == ["probability", "contributions"])
        // A tree ensemble without covers cannot explain: no contributions output.
        let trees = try json(get("/v2/models/trees/versions/7"))
        #expect((trees["outputs"] as? [[String: Any]])?.count == 1)
        #expect(get("/v2/models/conv/ready").status == .ok)
        #expect(get("/v2/models/conv/versions/1/ready").status == .ok)
        try expectError(get("/v2/models/conv/versions/2/ready"), .modelNotFound("conv/versions/2"))
        try expectError(get("/v2/models/nope"), .modelNotFound("nope"))
        try expectError(get("/v3/models"), .unknownPath("/v3/models"))
        try expectError(get("/v2/models/conv/infer"), .methodNotAllowed("GET"))
    }

    @Test func namedTensorsWithCategoriesByNameScoreAsTheScorer() throws {
        let response = post("/v2/models/conv/infer", """
            {"id": "r-1", "inputs": [
              {"name": "visits", "datatype": "INT64", "shape": [3], "data": [3, 0, 7]},
              {"name": "device", "datatype": "BYTES", "shape": [3, 1], "data": [["mobile"], ["desktop"], ["mobile"]]},
              {"name": "age", "datatype": "FP32", "shape": [3], "data": [35, 61.5, null]}]}
            """)
        #expect(response.status == .ok)
        let answer = try json(response)
        #expect(answer["model_name"] as? String == "conv" && answer["model_version"] as? String == "1")
        #expect(answer["id"] as? String == "r-1")
        #expect(try probabilities(response).map(\.bitPattern) == expected.map(\.bitPattern))
        // An unknown category is an unseen one, an empty name a missing one, as in CSV input.
        let unseen = post("/v2/models/conv/infer", """
            {"inputs": [{"name": "age", "datatype": "FP64", "shape": [2], "data": [40, 40]},
              {"name": "device", "datatype": "BYTES", "shape": [2], "data": ["tablet", ""]},
              {"name": "visits", "datatype": "FP32", "shape": [2], "data": [2, 2]}]}
            """)
        let scorer = Scorer(model: TestModels.logistic)
        #expect(try probabilities(unseen) == scorer.score([40, -1, 2, 40, .nan, 2]))
    }

    @Test func theMatrixFormAndBinaryTensorsGiveTheSameBits() throws {
        let matrix = post("/v2/models/conv/infer", """
            {"inputs": [{"name": "input", "datatype": "FP32", "shape": [3, 3], "data": [[35, 0, 3], [61.5, 1, 0], [null, 0, 7]]}]}
            """)
        #expect(try probabilities(matrix).map(\.bitPattern) == expected.map(\.bitPattern))
        // Binary in (FP32 matrix) and out.
        var raw: [UInt8] = []
        for v in rows.flatMap({ $0 }) { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw += $0 } }
        let binary = post("/v2/models/conv/infer", """
            {"inputs": [{"name": "input", "datatype": "FP32", "shape": [3, 3], "parameters": {"binary_data_size": 36}}],
             "outputs": [{"name": "probability", "parameters": {"binary_data": true}}]}
            """, binary: raw)
        let length = try #require(binary.jsonLength)
        let header = try json(binary)
        let output = try #require((header["outputs"] as? [[String: Any]])?.first)
        #expect((output["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 12)
        let tail = Array(binary.body[length...])
        let floats = (0..<3).map { i in
            Float(bitPattern: UInt32(tail[4 * i]) | UInt32(tail[4 * i + 1]) << 8 | UInt32(tail[4 * i + 2]) << 16 | UInt32(tail[4 * i + 3]) << 24)
        }
        #expect(floats.map(\.bitPattern) == expected.map(\.bitPattern))
        // BYTES in binary: a 4-byte little-endian length before each name.
        var names: [UInt8] = []
        for name in ["mobile", "desktop", "mobile"] { names += [UInt8(name.utf8.count), 0, 0, 0] + Array(name.utf8) }
        var ages: [UInt8] = [], visits: [UInt8] = []
        for r in rows {
            withUnsafeBytes(of: r[0].bitPattern.littleEndian) { ages += $0 }
            withUnsafeBytes(of: Int32(r[2]).littleEndian) { visits += $0 }
        }
        let named = post("/v2/models/conv/infer", """
            {"inputs": [{"name": "age", "datatype": "FP32", "shape": [3], "parameters": {"binary_data_size": 12}},
              {"name": "device", "datatype": "BYTES", "shape": [3], "parameters": {"binary_data_size": \(names.count)}},
              {"name": "visits", "datatype": "INT32", "shape": [3], "parameters": {"binary_data_size": 12}}]}
            """, binary: ages + names + visits)
        #expect(try probabilities(named).map(\.bitPattern) == expected.map(\.bitPattern))
    }

    /// A `visitor_key` routes the request through the experiments file, as ROUTE_SCORE does: the same variant for
    /// the same visitor, named in the answer; unknown routes, versions and bad keys fail by their case.
    @Test func visitorKeysRouteThroughExperiments() throws {
        registry.add(TestModels.logistic, name: "champion", version: "1")
        registry.add(TestModels.logistic, name: "challenger", version: "2")
        let routes = RouteTable()
        let route = Route(
            name: "homepage", salt: "s", variants: [.init(model: "champion", basisPoints: 5000), .init(model: "challenger", basisPoints: 5000)],
            shadows: ["conv"])
        routes.install([route])
        let routed = InferenceService(
            registry: registry, serverVersion: "test", experiments: ServedExperiments(routes: routes))
        func infer(_ key: String, path: String = "/v2/models/homepage/infer") -> InferenceService.Response {
            post(path, """
                {"parameters": {"visitor_key": "\(key)"},
                 "inputs": [{"name": "m", "datatype": "FP32", "shape": [3, 3], "data": [35, 0, 3, 61.5, 1, 0, null, 0, 7]}]}
                """, service: routed)
        }
        var seen: Set<String> = []
        for visitor in (0..<40).map({ "visitor-\($0)" }) {
            let answer = infer(visitor)
            #expect(answer.status == .ok)
            let body = try json(answer)
            let variant = route.variants[route.variant(for: Array(visitor.utf8))].model
            #expect(body["model_name"] as? String == "homepage")
            #expect(body["model_version"] as? String == variant + (variant == "champion" ? "@1" : "@2"))
            #expect(try probabilities(answer) == expected)
            #expect(try json(infer(visitor))["model_version"] as? String == body["model_version"] as? String)
            seen.insert(body["model_version"] as! String)
        }
        #expect(seen == ["champion@1", "challenger@2"])
        try expectError(infer("v", path: "/v2/models/nope/infer"), .routeNotFound("nope"))
        try expectError(infer("v", path: "/v2/models/homepage/versions/1/infer"), .routeNotFound("homepage/versions/1"))
        try expectError(infer(""), .invalidVisitorKey(length: 0))
        try expectError(infer(String(repeating: "k", count: 257)), .invalidVisitorKey(length: 257))
        try expectError(
            post("/v2/models/homepage/infer", #"{"parameters": {"visitor_key": 7}, "inputs": []}"#, service: routed),
            .malformedJSON("'parameters.visitor_key' must be a string"))
        // Without experiments (a service made without them), a visitor key finds no route.
        try expectError(post("/v2/models/conv/infer", """
            {"parameters": {"visitor_key": "v"}, "inputs": [{"name": "m", "datatype": "FP32", "shape": [1, 3], "data": [1, 0, 2]}]}
            """), .routeNotFound("conv"))
    }

    @Test func contributionsAddUpToTheMargin() throws {
        let response = post("/v2/models/conv/infer", """
            {"inputs": [{"name": "input", "datatype": "FP32", "shape": [2, 3], "data": [35, 0, 3, 61.5, 1, 0]}],
             "outputs": [{"name": "probability"}, {"name": "contributions"}]}
            """)
        #expect(response.status == .ok)
        let outputs = try #require(try json(response)["outputs"] as? [[String: Any]])
        let contributions = try #require(outputs.last)
        #expect(contributions["shape"] as? [Int] == [2, 4])
        let values = try #require(contributions["data"] as? [Double])
        let explainer = try Explainer(model: TestModels.logistic)
        let direct = explainer.explain(rows: [35, 0, 3, 61.5, 1, 0])
        #expect(values == direct.flatMap { $0.values + [$0.bias] })
        try expectError(post("/v2/models/trees/infer", """
            {"inputs": [{"name": "m", "datatype": "FP32", "shape": [1, 3], "data": [1, 0, 2]}], "outputs": [{"name": "contributions"}]}
            """), .cannotExplain("trees"))
    }

    @Test func badRequestsNameWhatIsWrong() throws {
        let path = "/v2/models/conv/infer"
        try expectError(post(path, "{\"inputs\": [}"), .malformedJSON("the request body is not a JSON document"))
        try expectError(post(path, "{}"), .missingField("inputs"))
        try expectError(post(path, """
            {"inputs": [{"name": "age", "shape": [1], "data": [1]}]}
            """), .missingField("inputs[0].datatype"))
        try expectError(post(path, """
            {"inputs": [{"name": "age", "datatype": "FP16", "shape": [1], "data": [1]}]}
            """), .unsupportedDatatype(tensor: "age", datatype: "FP16"))
        try expectError(post(path, """
            {"inputs": [{"name": "age", "datatype": "BYTES", "shape": [1], "data": ["x"]}, {"name": "device", "datatype": "BYTES", "shape": [1], "data": ["mobile"]}, {"name": "visits", "datatype": "FP32", "shape": [1], "data": [1]}]}
            """), .wrongDatatype(tensor: "age", datatype: "BYTES", expected: "a numeric datatype"))
        try expectError(post(path, """
            {"inputs": [{"name": "age", "datatype": "FP32", "shape": [2], "data": [1]}]}
            """), .badData(tensor: "age", reason: "1 elements for a shape of 2"))
        try expectError(post(path, """
            {"inputs": [{"name": "age", "datatype": "FP32", "shape": [1], "data": ["old"]}]}
            """), .badData(tensor: "age", reason: "FP32 elements must be numbers"))
        try expectError(post(path, """
            {"inputs": [{"name": "height", "datatype": "FP32", "shape": [1], "data": [1]}]}
            """), .unknownTensor("height"))
        try expectError(post(path, """
            {"inputs": [{"name": "age", "datatype": "FP32", "shape": [1], "data": [1]}]}
            """), .missingFeature("device"))
        try expectError(post(path, """
            {"inputs": [{"name": "age", "datatype": "FP32", "shape": [1], "data": [1]}, {"name": "age", "datatype": "FP32", "shape": [1], "data": [1]}]}
            """), .duplicateTensor("age"))
        try expectError(post(path, """
            {"inputs": [{"name": "age", "datatype": "FP32", "shape": [1], "data": [1]}, {"name": "visits", "datatype": "FP32", "shape": [2], "data": [1, 2]}]}
            """), .rowCountMismatch(tensor: "visits", rows: 2, expected: 1))
        try expectError(post(path, """
            {"inputs": [{"name": "age", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}
            """), .badShape(tensor: "age", reason: "a feature's input must be [rows] or [rows, 1], not [1, 2]"))
        try expectError(post(path, """
            {"inputs": [{"name": "m", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}
            """), .badShape(tensor: "m", reason: "a matrix input must be [rows, 3], not [1, 2]"))
        try expectError(post(path, """
            {"inputs": [{"name": "m", "datatype": "FP32", "shape": [1, 3], "data": [1, 0, 2]}], "outputs": [{"name": "logits"}]}
            """), .unknownOutput("logits"))
        try expectError(post(path, """
            {"inputs": [{"name": "m", "datatype": "FP32", "shape": [1, 3], "parameters": {"binary_data_size": 12}}]}
            """, binary: [1, 2, 3]), .badBinaryData("input 'm': binary_data_size is not a byte count within the body"))
        var limits = ServerLimits()
        limits.maxRowsPerRequest = 2
        let small = InferenceService(registry: registry, serverVersion: "test", limits: limits)
        try expectError(post(path, """
            {"inputs": [{"name": "m", "datatype": "FP32", "shape": [3, 3], "data": [1, 0, 2, 1, 0, 2, 1, 0, 2]}]}
            """, service: small), .tooManyRows(3, limit: 2))
        // A bad request fails alone: the next one is answered.
        #expect(post(path, """
            {"inputs": [{"name": "m", "datatype": "FP32", "shape": [1, 3], "data": [1, 0, 2]}]}
            """).status == .ok)
    }

    @Test func aTokenIsRequiredExceptForLiveness() throws {
        let guarded = InferenceService(registry: registry, serverVersion: "test", token: { Array("s3cret-token".utf8) })
        let body = "{\"inputs\": [{\"name\": \"m\", \"datatype\": \"FP32\", \"shape\": [1, 3], \"data\": [1, 0, 2]}]}"
        try expectError(post("/v2/models/conv/infer", body, service: guarded), .unauthorized)
        try expectError(post("/v2/models/conv/infer", body, service: guarded, authorization: "Bearer s3cret-tokem"), .unauthorized)
        #expect(post("/v2/models/conv/infer", body, service: guarded, authorization: "Bearer s3cret-token").status == .ok)
        #expect(guarded.respond(method: "GET", path: "/v2/health/live", authorization: nil, jsonLength: nil, body: []).status == .ok)
        #expect(guarded.respond(method: "GET", path: "/v2", authorization: nil, jsonLength: nil, body: []).status == .unauthorized)
    }

    /// Over a real socket: keep-alive answers, an oversize body gets 413 and a closed connection, a request left
    /// unfinished is closed after the frame timeout, and the binary port answers throughout.
    @Test func theHTTPPortEnforcesItsLimitsAndTheBinaryPortKeepsServing() async throws {
        var options = ServerOptions()
        options.limits.maxFrameBytes = 4096
        options.limits.frameTimeout = .milliseconds(300)
        let scoring = try await ScoringServer.start(host: "127.0.0.1", port: 0, registry: registry, options: options)
        let http = try await InferenceHTTPServer.start(
            host: "127.0.0.1", port: 0, service: InferenceService(registry: registry, serverVersion: "test", limits: options.limits),
            limits: options.limits)
        let port = http.port
        let body = "{\"inputs\": [{\"name\": \"m\", \"datatype\": \"FP32\", \"shape\": [1, 3], \"data\": [35, 0, 3]}]}"
        let request = "POST /v2/models/conv/infer HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let twice = try await onThread { () -> String in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            try socket.send(Array((request + request).utf8))
            var reply: [UInt8] = []
            while String(decoding: reply, as: UTF8.self).components(separatedBy: "HTTP/1.1 200 OK").count < 3 {
                let chunk = try socket.receive()
                if chunk.isEmpty { break }
                reply += chunk
            }
            return String(decoding: reply, as: UTF8.self)
        }
        #expect(twice.components(separatedBy: "\"model_name\":\"conv\"").count == 3)
        let oversize = try await onThread { () -> (String, Bool) in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            try socket.send(Array("POST /v2/models/conv/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".utf8))
            try socket.send([UInt8](repeating: 32, count: 8192))
            let reply = String(decoding: try socket.receive(), as: UTF8.self)
            // Generous: the suite loads both cores; the poll returns as soon as the close comes.
            return (reply, socket.waitForPeerHalfClose(timeoutMilliseconds: 15_000))
        }
        #expect(oversize.0.hasPrefix("HTTP/1.1 413"))
        #expect(oversize.1)
        let slow = try await onThread { () -> Bool in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            try socket.send(Array("POST /v2/models/conv/infer HTTP/1.1\r\nHost: x\r\nContent-Len".utf8))
            return socket.waitForPeerHalfClose(timeoutMilliseconds: 3000)
        }
        #expect(slow, "a head left unfinished is closed after the frame timeout")
        let client = try await PropensityClient.connect(host: "127.0.0.1", port: scoring.port)
        let fingerprint = ModelFile.fingerprint(of: TestModels.logistic.schema)
        let scores = try await client.score(model: "conv", fingerprint: fingerprint, featureCount: 3, features: rows[0])
        #expect(scores.map(\.bitPattern) == [expected[0].bitPattern])
        try? await client.close()
        try await http.close()
        try await scoring.close()
    }
}
