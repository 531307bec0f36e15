import NIOCore
import PropensityModel
import PropensityProtocol

/// What a single connection and a pool of them both offer: send a request, and the typed calls built on it.
public protocol ScoringConnection: Sendable {
    /// Sends one request; returns its response, or throws `ClientError.server` for an ERROR frame.
    func send(_ request: Request, timeout: TimeAmount?) async throws -> Response
}

extension ScoringConnection {
    /// A round trip that touches no model (liveness, latency).
    /// - Throws: `ClientError` (see `send`) or the connection's error.
    public func ping() async throws {
        _ = try await send(.ping, timeout: nil)
    }

    /// Every model the server serves, with its versions.
    /// - Throws: `ClientError` (see `send`) or the connection's error.
    public func listModels() async throws -> [ModelSummary] {
        guard case .modelList(let models) = try await send(.listModels, timeout: nil) else { throw ClientError.unexpectedResponse }
        return models
    }

    /// One model's schema and fingerprint, which every SCORE for it must carry.
    /// - Parameter model: `NAME` (the newest version) or `NAME@VERSION`.
    /// - Throws: `ClientError.server(.unknownModel, …)` when the server has no such model; else as `send`.
    public func modelInfo(_ model: String) async throws -> ModelInfo {
        guard case .modelInfo(let info) = try await send(.modelInfo(model: model), timeout: nil) else {
            throw ClientError.unexpectedResponse
        }
        return info
    }

    /// Scores rows and returns one probability per row, in order.
    /// - Parameters:
    ///   - model: `NAME` or `NAME@VERSION`.
    ///   - fingerprint: the schema fingerprint from `modelInfo`; a different one is refused (the schema changed).
    ///   - featureCount: features per row (the schema's count).
    ///   - features: row-major float32 values in schema order; NaN for missing, a category's index for a categorical
    ///     feature. Must be whole rows.
    /// - Throws: `ClientError.server` with `.unknownModel`, `.schemaMismatch`, `.tooManyRows` and the other codes of
    ///   docs/protocol.md; `ClientError.unexpectedResponse` if the answer has the wrong number of scores.
    public func score(model: String, fingerprint: UInt64, featureCount: Int, features: [Float]) async throws -> [Float] {
        precondition(featureCount > 0 && features.count % featureCount == 0, "features must be whole rows")
        let request = ScoreRequest(
            model: model, fingerprint: fingerprint, rowCount: features.count / featureCount,
            featureCount: featureCount, features: features)
        guard case .scores(let scores) = try await send(.score(request), timeout: nil) else { throw ClientError.unexpectedResponse }
        guard scores.count == request.rowCount else { throw ClientError.unexpectedResponse }
        return scores
    }

    /// Scores rows and explains each: its probability (as `score` gives it), the bias, and the `top` columns with
    /// the largest |contribution| to its margin (log-odds), largest first.
    /// - Parameters:
    ///   - model, fingerprint, featureCount, features: as for `score`.
    ///   - top: reasons per row, 1 … the model's feature count.
    /// - Throws: `ClientError.server` with `.cannotExplain` (a model without covers), `.invalidTopK`, `.tooManyRows`
    ///   (above the server's per-EXPLAIN limit) and the codes `score` throws.
    public func explain(model: String, fingerprint: UInt64, featureCount: Int, features: [Float], top: Int)
        async throws -> [RowExplanation]
    {
        precondition(featureCount > 0 && features.count % featureCount == 0, "features must be whole rows")
        let request = ScoreRequest(
            model: model, fingerprint: fingerprint, rowCount: features.count / featureCount,
            featureCount: featureCount, features: features)
        guard case .explanations(let rows) = try await send(.explain(request, top: top), timeout: nil) else {
            throw ClientError.unexpectedResponse
        }
        guard rows.count == request.rowCount else { throw ClientError.unexpectedResponse }
        return rows
    }

    /// Scores rows with the variant of an experiment route that `key` (the visitor's, 1 … 256 bytes; pass a
    /// pseudonym rather than a raw identifier) is assigned to; the same key gets the same variant from every replica
    /// while the route's split stays.
    /// - Parameters:
    ///   - route: a route of the server's experiments file.
    ///   - fingerprint: the route's schema (MODEL_INFO of any of its variants).
    ///   - featureCount, features: as for `score`.
    /// - Returns: the variant that answered (`NAME@VERSION`) and one probability per row.
    /// - Throws: `ClientError.server` with `.unknownRoute`, `.invalidVisitorKey`, and the codes `score` throws.
    public func routeScore(route: String, key: [UInt8], fingerprint: UInt64, featureCount: Int, features: [Float])
        async throws -> (variant: String, scores: [Float])
    {
        precondition(featureCount > 0 && features.count % featureCount == 0, "features must be whole rows")
        let request = RouteScoreRequest(
            route: route, key: key, fingerprint: fingerprint, rowCount: features.count / featureCount,
            featureCount: featureCount, features: features)
        guard case .routedScores(let variant, let scores) = try await send(.routeScore(request), timeout: nil),
              scores.count == request.rowCount
        else { throw ClientError.unexpectedResponse }
        return (variant, scores)
    }

    /// EXPLAIN through an experiment route: the visitor's variant (as `routeScore` picks it) explains the rows.
    /// - Returns: the variant that answered and, per row, what `explain` returns.
    /// - Throws: the codes of `routeScore` and `explain`.
    public func routeExplain(
        route: String, key: [UInt8], fingerprint: UInt64, featureCount: Int, features: [Float], top: Int
    ) async throws -> (variant: String, rows: [RowExplanation]) {
        precondition(featureCount > 0 && features.count % featureCount == 0, "features must be whole rows")
        let request = RouteScoreRequest(
            route: route, key: key, fingerprint: fingerprint, rowCount: features.count / featureCount,
            featureCount: featureCount, features: features)
        guard case .routedExplanations(let variant, let rows) = try await send(.routeExplain(request, top: top), timeout: nil),
              rows.count == request.rowCount
        else { throw ClientError.unexpectedResponse }
        return (variant, rows)
    }
}
