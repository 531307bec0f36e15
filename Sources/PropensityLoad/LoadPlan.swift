import PropensityProtocol

/// What a load test sends, where, and for how long.
public struct LoadPlan: Sendable {
    public enum Mode: Sendable, Equatable {
        /// Requests due at a constant total rate (per second) spread over the connections; latency is measured from
        /// each request's due time, so a stalled server cannot hide its stall (no coordinated omission). A connection
        /// keeps at most `pipeline` in flight; a request due beyond that is counted as unsent.
        case openLoop(rate: Double)
        /// Every connection keeps `pipeline` requests in flight: a sliding window refilled as each answer arrives, or
        /// with `rounds`, `pipeline` at a time as `redis-benchmark -P` sends them. Saturation throughput.
        case closedLoop(rounds: Bool)
        /// One connection, one request at a time, from a blocking socket (the echo floor's client model).
        case blocking
    }

    public var host = "127.0.0.1"
    public var port = 7878
    public var token: [UInt8]?
    public var model: String
    public var mode: Mode
    public var connections = 1
    public var pipeline = 1
    public var rowsPerRequest = 1
    /// EXPLAIN requests asking for the top `explainTop` reasons per row instead of SCORE requests; nil: SCORE.
    public var explainTop: Int?
    /// ROUTE_SCORE requests to this route (of the server's experiments file) instead, `model` then being the route's
    /// name; each request carries one of 64 visitor keys, so every variant gets its share.
    public var route: Bool = false
    /// Seconds sent before measuring, then seconds measured.
    public var warmup = 1.0
    public var duration = 10.0
    /// Event-loop threads of the generator; nil: one per core, at most one per connection.
    public var threads: Int?

    /// The opcode every answer must carry; any other (an ERROR) is counted as an error.
    var answerOpcode: UInt8 {
        route ? Opcode.routedScores.rawValue : explainTop == nil ? Opcode.scores.rawValue : Opcode.explanations.rawValue
    }

    public init(model: String, mode: Mode) {
        self.model = model
        self.mode = mode
    }

    public func validate() throws(LoadError) {
        func require(_ ok: Bool, _ name: String, _ requirement: String) throws(LoadError) {
            if !ok { throw .invalidParameter(name, requirement: requirement) }
        }
        try require(connections > 0, "connections", "positive")
        try require(pipeline > 0, "pipeline", "positive")
        try require(rowsPerRequest > 0, "rows", "positive")
        try require((explainTop ?? 1) > 0, "explain", "positive")
        try require(duration > 0 && duration.isFinite, "duration", "positive")
        try require(warmup >= 0 && warmup.isFinite, "warmup", "≥ 0")
        try require((threads ?? 1) > 0, "threads", "positive")
        try require(!route || explainTop == nil, "route", "used without --explain")
        if case .openLoop(let rate) = mode { try require(rate > 0 && rate.isFinite, "rate", "positive") }
    }
}
