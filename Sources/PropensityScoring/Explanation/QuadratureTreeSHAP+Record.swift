import PropensityModel

extension QuadratureTreeSHAP {
    /// One internal node: its split and the tables of the edges to its two children (320 bytes with 4 lanes).
    struct Record: Sendable {
        var split: DecisionTree.Node
        var left: Edge
        var right: Edge
    }

    /// What does not depend on the row about the edge into a child slot (slots: 0 the root, internal nodes by index,
    /// then the leaves). A leaf's value is folded into its edge's factors and share, so that its P comes out as its S.
    struct Edge: Sendable {
        /// P's factor f_after / f_before when the row does not take this edge, the feature satisfied so far.
        var notTaken: Lanes
        /// The same when the row takes it.
        var taken: Lanes
        /// What the edge adds to its feature's φ per unit of S below it, ω (q after − q before), when the row fails
        /// the feature here (q after = −1 / (1 − t)) and when it satisfies it (q after = (1 − z) / (z + (1 − z) t));
        /// q before is the previous edge's on the feature, 0 for the first. Adjacent, `satisfiedStep` second.
        var failedStep: Lanes
        var satisfiedStep: Lanes
        /// The edge's cover share: P's factor when the row failed the feature higher up.
        var share: Double
        /// The slot below the previous edge on the same feature (0, the root, when there is none; the root counts as
        /// satisfied).
        var previous: Int32
    }
}
