import PropensityPrivacy

/// What `serve --sample-log` writes (docs/feedback.md): every `every`-th ROUTE_SCORE request's rows, with the visitor
/// key pseudonymised, into per-model CSV files under `directory`.
public struct SampleLogSettings: Sendable {
    public var directory: String
    /// 1: every request; 10: one in ten (`--sample-rate 0.1`).
    public var every: Int
    /// Files older than this many days are deleted (nil: kept).
    public var retentionDays: Int?
    /// Turns visitor keys into the pseudonyms the files hold.
    public var pseudonymiser: Pseudonymiser
    /// A file is closed and a new one begun after this many seconds or bytes.
    public var rotateSeconds: Double = 3600
    public var rotateBytes = 64 << 20
    /// Rows waiting for the writer beyond which new samples are dropped (and counted), never waited for.
    public var maxQueuedRows = 100_000

    public init(directory: String, every: Int, retentionDays: Int?, pseudonymiser: Pseudonymiser) {
        self.directory = directory
        self.every = every
        self.retentionDays = retentionDays
        self.pseudonymiser = pseudonymiser
    }
}
