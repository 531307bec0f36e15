import Metrics
import NIOConcurrencyHelpers
import PropensityProtocol

/// A route's metric handles, created when its experiments file loads (the request path only records):
///
/// - `propensity_route_requests_total{route,variant}`, `propensity_route_rows_total{route,variant}`;
/// - `propensity_route_request_duration_seconds{route,variant}`: from decoding to the answer encoded;
/// - `propensity_route_score{route,variant}`: the probabilities answered (a histogram);
/// - `propensity_route_errors_total{route,code}`: ERROR answers to the route's requests;
/// - `propensity_shadow_disagreement{route,shadow}`: |shadow's probability − the answered one| per row (a histogram);
/// - `propensity_shadow_dropped_rows_total{route}`: shadow rows not scored because the shadow queue was full.
final class RouteMetrics: Sendable {
    struct VariantMetrics: Sendable {
        let requests: Counter
        let rows: Counter
        let duration: Timer
        let score: Recorder
    }

    let route: String
    let variants: [VariantMetrics]
    let disagreement: [Recorder]
    let shadowDropped: Counter
    private let errors = NIOLockedValueBox<[UInt16: Counter]>([:])

    static let scoreLabel = "propensity_route_score"
    static let disagreementLabel = "propensity_shadow_disagreement"

    init(_ route: Route) {
        self.route = route.name
        variants = route.variants.map { v in
            let d = [("route", route.name), ("variant", v.model)]
            return VariantMetrics(
                requests: Counter(label: "propensity_route_requests_total", dimensions: d),
                rows: Counter(label: "propensity_route_rows_total", dimensions: d),
                duration: Timer(label: "propensity_route_request_duration_seconds", dimensions: d, preferredDisplayUnit: .seconds),
                score: Recorder(label: Self.scoreLabel, dimensions: d, aggregate: true))
        }
        disagreement = route.shadows.map {
            Recorder(label: Self.disagreementLabel, dimensions: [("route", route.name), ("shadow", $0)], aggregate: true)
        }
        shadowDropped = Counter(label: "propensity_shadow_dropped_rows_total", dimensions: [("route", route.name)])
    }

    func error(_ code: ErrorCode) {
        errors.withLockedValue { cache in
            if let c = cache[code.rawValue] { return c }
            let c = Counter(
                label: "propensity_route_errors_total", dimensions: [("route", route), ("code", String(code.rawValue))])
            cache[code.rawValue] = c
            return c
        }.increment()
    }
}
