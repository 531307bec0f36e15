import NIOCore
import PropensityModel
import PropensityProtocol

/// What a single connection and a pool of them both offer: send a request, and the typed calls built on it.
public protocol ScoringConnection: Sendable {
    /// Sends one request; returns its response, or throws `ClientError.server` for an ERROR frame.
    func send(_ request: Request, timeout: TimeAmount?) async throws -> Response
}

extension ScoringConnection {
    public func ping() async throws {
        _ = try await send(.ping, timeout: nil)
    }

    public func listModels() async throws -> [ModelSummary] {
        guard case .modelList(let models) = try await send(.listModels, timeout: nil) else { throw ClientError.unexpectedResponse }
        return models
    }

    public func modelInfo(_ model: String) async throws -> ModelInfo {
        guard case .modelInfo(let info) = try await send(.modelInfo(model: model), timeout: nil) else {
            throw ClientError.unexpectedResponse
        }
        return info
    }

    /// Scores row-major features (`featureCount` float32 per row, schema order) and returns one probability per row.
    public func score(model: String, fingerprint: UInt64, featureCount: Int, features: [Float]) async throws -> [Float] {
        precondition(featureCount > 0 && features.count % featureCount == 0, "features must be whole rows")
        let request = ScoreRequest(
            model: model, fingerprint: fingerprint, rowCount: features.count / featureCount,
            featureCount: featureCount, features: features)
        guard case .scores(let scores) = try await send(.score(request), timeout: nil) else { throw ClientError.unexpectedResponse }
        guard scores.count == request.rowCount else { throw ClientError.unexpectedResponse }
        return scores
    }
}
