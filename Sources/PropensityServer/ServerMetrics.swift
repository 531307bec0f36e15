import Metrics
import NIOConcurrencyHelpers
import PropensityProtocol

/// The scorer's metrics, through swift-metrics (the `serve` command backs them with Prometheus). Metric objects
/// are created once per model and error code, then only incremented on the request path.
///
/// - `propensity_requests_total{model}`, `propensity_rows_total{model}`: scored requests and rows.
/// - `propensity_errors_total{code}`: ERROR frames sent, by protocol error code.
/// - `propensity_request_duration_seconds{model}`: server time of SCORE requests: for each read that carried any,
///   from the read to its last answer encoded (decoding, lookup, scoring) — what the slowest request of the read saw;
///   one observation per read (a lone request gets its own).
/// - `propensity_connections`: open connections; `propensity_models_loaded`: loaded model versions.
/// - `propensity_model_load_failures_total{reason}`: model files refused (`ModelLoadError.label`: file_name,
///   unreadable, too_large, not_a_model, length, version, checksum, malformed).
/// - `propensity_model_directory_errors_total`: reloads that could not list the model directory.
/// - `propensity_auth_failures_total`: AUTH requests refused (wrong token, or too many attempts).
public final class ServerMetrics: Sendable {
    struct ModelMetrics: Sendable {
        let requests: Counter
        let rows: Counter
        let duration: Timer
    }

    private let models = NIOLockedValueBox<[String: ModelMetrics]>([:])
    private let errors = NIOLockedValueBox<[UInt16: Counter]>([:])
    let connections = Gauge(label: "propensity_connections")
    let modelsLoaded = Gauge(label: "propensity_models_loaded")
    private let loadFailures = NIOLockedValueBox<[String: Counter]>([:])
    let directoryErrors = Counter(label: "propensity_model_directory_errors_total")
    let authFailures = Counter(label: "propensity_auth_failures_total")

    public init() {}

    func model(_ name: String) -> ModelMetrics {
        models.withLockedValue { cache in
            if let m = cache[name] { return m }
            let dimensions = [("model", name)]
            let m = ModelMetrics(
                requests: Counter(label: "propensity_requests_total", dimensions: dimensions),
                rows: Counter(label: "propensity_rows_total", dimensions: dimensions),
                duration: Timer(label: "propensity_request_duration_seconds", dimensions: dimensions,
                                preferredDisplayUnit: .seconds))
            cache[name] = m
            return m
        }
    }

    func error(_ code: ErrorCode) {
        errors.withLockedValue { cache in
            if let c = cache[code.rawValue] { return c }
            let c = Counter(label: "propensity_errors_total", dimensions: [("code", String(code.rawValue))])
            cache[code.rawValue] = c
            return c
        }.increment()
    }

    func loadFailure(_ reason: ModelLoadError) {
        loadFailures.withLockedValue { cache in
            if let c = cache[reason.label] { return c }
            let c = Counter(label: "propensity_model_load_failures_total", dimensions: [("reason", reason.label)])
            cache[reason.label] = c
            return c
        }.increment()
    }

    func directoryError() { directoryErrors.increment() }

    public func setModelsLoaded(_ count: Int) {
        modelsLoaded.record(count)
    }
}
