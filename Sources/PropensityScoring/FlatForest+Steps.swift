import PropensityModel

/// One step of a walk: the node's next slot for a row's `v`. Two kinds, chosen once per call and specialized, so the
/// walk of an all-numeric forest does no categorical work.
protocol FlatStep {
    static func next(_ c: Int, _ v: UnsafePointer<Float>, _ tables: FlatForest.Tables) -> Int
}

enum NumericStep: FlatStep {
    @inline(__always)
    static func next(_ c: Int, _ v: UnsafePointer<Float>, _ tables: FlatForest.Tables) -> Int {
        let node = tables.nodes[c]
        return Int(node.left) &+ (v[Int(node.feature)] <= node.limit ? 0 : 1)
    }
}

enum CategoricalStep: FlatStep {
    @inline(__always)
    static func next(_ c: Int, _ v: UnsafePointer<Float>, _ tables: FlatForest.Tables) -> Int {
        let node = tables.nodes[c]
        let code = Int(v[Int(node.feature >> 16)])
        let bit = (tables.words[Int(node.words) &+ (code >> 5)] >> UInt32(code & 31)) & 1
        return Int(node.left) &+ (v[Int(node.feature & 0xFFFF)] <= node.limit ? 0 : 1) &+ Int(bit)
    }
}
