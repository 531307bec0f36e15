import NIOSSL

/// Server settings besides the limits.
public struct ServerOptions: Sendable {
    public var limits = ServerLimits()
    /// When set, a connection must send AUTH with this token before any other request.
    public var token: [UInt8]? = nil
    /// Limits on wrong tokens (per connection, per address) and how their audit lines are aggregated.
    public var auth = AuthGuard.Settings()
    public var metrics = ServerMetrics()
    /// When set, every connection is TLS (swift-nio-ssl) with this context.
    public var tls: NIOSSLContext? = nil
    /// The routes (experiments) ROUTE_SCORE requests name; `serve` loads them from the model directory.
    public var routes = RouteTable()
    /// Most rows waiting for shadow scoring; more are dropped (and counted), never waited for.
    public var maxPendingShadowRows = 65_536
    /// When set, every `sampleLog.settings.every`-th ROUTE_SCORE request goes to the sampled feed.
    public var sampleLog: SampleLog? = nil

    public init() {}
}
