/// What a routed request needs on any port: the loaded routes, the background scorer of their shadows and the sampled
/// feed, shared by the binary port (ROUTE_SCORE) and the Open Inference Protocol ports (an infer request with a
/// `visitor_key`).
public struct ServedExperiments: Sendable {
    let routes: RouteTable
    let shadows: ShadowScorer
    /// `serve --sample-log`: routed requests sampled to the feed whichever port they came in on.
    let sampleLog: SampleLog?
}

extension ServedExperiments {
    /// Routes outside a scoring server (tests, tools): shadows go to the process's shared background scorer.
    public init(routes: RouteTable, sampleLog: SampleLog? = nil) {
        self.init(routes: routes, shadows: .shared, sampleLog: sampleLog)
    }
}
