import Histogram

/// What a load test measured: round-trip latencies (nanoseconds, HdrHistogram, 3 significant digits) of the requests
/// answered inside the measurement window, and the counts.
public struct LoadResult: Sendable {
    public var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    /// Requests answered inside the window.
    public var completed = 0
    /// Answers that were ERROR frames.
    public var errors = 0
    /// Open loop: requests that were due while the connection's pipeline was full, so never sent (the server fell
    /// behind the rate).
    public var unsent = 0

    public init(histogram: Histogram<UInt64> = Histogram(numberOfSignificantValueDigits: .three), completed: Int = 0,
                errors: Int = 0, unsent: Int = 0) {
        self.histogram = histogram
        self.completed = completed
        self.errors = errors
        self.unsent = unsent
    }

    /// Adds another part's figures (another connection, another loop).
    public mutating func add(_ other: LoadResult) {
        histogram.add(other.histogram)
        completed += other.completed
        errors += other.errors
        unsent += other.unsent
    }

    /// The latency at percentile `p` (0–100), in microseconds.
    public func microseconds(atPercentile p: Double) -> Double {
        Double(histogram.valueAtPercentile(p)) / 1000
    }

    public var maxMicroseconds: Double { Double(histogram.max) / 1000 }
    public var meanMicroseconds: Double { histogram.mean / 1000 }

    /// The HdrHistogram percentile spectrum: (100·(1 − 2^−k), latency µs) for k = 0…16, then (100, max).
    public var spectrum: [(percentile: Double, microseconds: Double)] {
        (0...16).map { k in
            let p = 100 * (1 - 1 / Double(1 << k))
            return (p, microseconds(atPercentile: p))
        } + [(100, maxMicroseconds)]
    }
}
