/// What a routed request needs on any port: the loaded routes and the background scorer of their shadows, shared by
/// the binary port (ROUTE_SCORE) and the Open Inference Protocol ports (an infer request with a `visitor_key`).
public struct ServedExperiments: Sendable {
    let routes: RouteTable
    let shadows: ShadowScorer
}

extension ServedExperiments {
    /// Routes outside a scoring server (tests, tools): shadows go to the process's shared background scorer.
    public init(routes: RouteTable) {
        self.init(routes: routes, shadows: .shared)
    }
}
