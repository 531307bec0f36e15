import NIOCore

/// How the server tracks drift of the requests it scores against each model's reference profile
/// (docs/drift.md): every model whose file has one gets a `DriftMonitor` with these settings.
public struct DriftSettings: Sendable {
    /// Writers: one per event loop (loops beyond this many are not tracked). The server's group size.
    public var shards = NIOSingletons.groupLoopCountSuggestion
    /// The rolling window the gauges cover, and how finely it moves.
    public var window: Duration = .seconds(3600)
    public var slots = 12
    /// Every this-many-th row of a loop is counted (1: all).
    public var sampleEvery = 1
    /// Below this many rows in the window the PSI gauges read NaN: too few rows to tell drift from noise.
    public var minimumRows = 1000
    /// How often the gauges are computed.
    public var interval: Duration = .seconds(10)
    /// Off: no monitor, nothing counted.
    public var enabled = true

    public init() {}
}
