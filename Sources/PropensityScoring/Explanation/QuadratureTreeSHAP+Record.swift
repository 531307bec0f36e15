import PropensityModel

extension QuadratureTreeSHAP {
    /// One internal node: its split and the tables of the edges to its two children (256 bytes with 4 lanes).
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
        /// ω (1 − z) / (z + (1 − z) t): ω q at this slot with the feature satisfied down to it.
        var term: Lanes
        /// The edge's cover share: P's factor when the row failed the feature higher up.
        var share: Double
        /// The slot below the previous edge on the same feature (0, the root, when there is none; the root counts as
        /// satisfied with q = 0).
        var previous: Int32
        /// That slot's edge, as an index into the records' edges (2 × record + side); 0, the sentinel's zero term,
        /// for the root.
        var previousEdge: Int32

        /// The sentinel record's edges: q = 0.
        static var root: Edge { Edge(notTaken: .zero, taken: .zero, term: .zero, share: 1, previous: 0, previousEdge: 0) }
    }
}
