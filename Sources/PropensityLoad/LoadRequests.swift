import NIOCore
import PropensityModel
import PropensityProtocol

/// The requests a load test cycles through: random rows in the model's schema (numbers in [0, 10), valid category
/// indices, 10 % missing), as encoded SCORE frames (EXPLAIN frames with `explainTop`, ROUTE_SCORE frames to route
/// `model` with `route`, each with its own visitor key) with request id 0 (each generator stamps its own ids).
enum LoadRequests {
    static func make(
        model: String, info: ModelInfo, rowsPerRequest: Int, explainTop: Int? = nil, route: Bool = false, count: Int = 64
    ) -> [ByteBuffer] {
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { index in
            var features: [Float] = []
            features.reserveCapacity(rowsPerRequest * info.schema.count)
            for _ in 0..<rowsPerRequest {
                for feature in info.schema.features {
                    if Double.random(in: 0..<1, using: &rng) < 0.1 { features.append(.nan); continue }
                    if let categories = feature.kind.categories {
                        features.append(Float(Int.random(in: 0..<max(1, categories.count), using: &rng)))
                    } else {
                        features.append(Float.random(in: 0..<10, using: &rng))
                    }
                }
            }
            var buffer = ByteBuffer()
            let request = ScoreRequest(
                model: model, fingerprint: info.fingerprint, rowCount: rowsPerRequest, featureCount: info.schema.count,
                features: features)
            if route {
                let routed = RouteScoreRequest(
                    route: model, key: Array("load-visitor-\(index)".utf8), fingerprint: info.fingerprint,
                    rowCount: rowsPerRequest, featureCount: info.schema.count, features: features)
                RequestCodec.encode(.routeScore(routed), requestID: 0, into: &buffer)
            } else {
                RequestCodec.encode(explainTop.map { .explain(request, top: $0) } ?? .score(request), requestID: 0, into: &buffer)
            }
            return buffer
        }
    }
}
