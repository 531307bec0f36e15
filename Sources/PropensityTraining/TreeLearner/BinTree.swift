/// A tree as the trainer sees it: splits on bins, in flat arrays. Converted to raw-value thresholds for the model.
struct BinTree: Sendable {
    var features: [Int] = []
    var thresholdBins: [Int] = []
    var defaultLefts: [Bool] = []
    var isCategorical: [Bool] = []
    /// Categorical splits: bins going left, as a bitset `leftWords[categoryOffsets[i] ...]` of `categoryWordCounts[i]` words.
    var categoryOffsets: [Int] = []
    var categoryWordCounts: [Int] = []
    var leftWords: [UInt64] = []
    var lefts: [Int32] = []
    var rights: [Int32] = []
    var gains: [Double] = []
    var leafValues: [Double] = [0]
    /// Hessian sums of the rows that reached each internal node and each leaf (TreeSHAP's covers).
    var nodeCovers: [Double] = []
    var leafCovers: [Double] = [0]

    var nodeCount: Int { features.count }

    /// Whether `bin` of node `i`'s feature goes left; `missingBin` is that feature's missing bin.
    @inline(__always)
    func goesLeft(_ i: Int, bin: Int, missingBin: Int) -> Bool {
        if isCategorical[i] {
            let word = bin >> 6
            return word < categoryWordCounts[i] && leftWords[categoryOffsets[i] + word] & (1 << UInt64(bin & 63)) != 0
        }
        return bin == missingBin ? defaultLefts[i] : bin <= thresholdBins[i]
    }

    /// Adds each row's leaf value to `margins[row]` for all rows of `data` (rows spread over `threads` workers).
    func addLeafValues<Bin: FixedWidthInteger & UnsignedInteger>(
        _: Bin.Type, data: BinnedData, margins: UnsafeMutablePointer<Double>, threads: Int
    ) {
        addLeafValues(Bin.self, data: data, rows: nil, count: data.rows, margins: margins, threads: threads)
    }

    /// The same for the given rows only (e.g. the rows a bagged tree was not grown on).
    func addLeafValues<Bin: FixedWidthInteger & UnsignedInteger>(
        _: Bin.Type, data: BinnedData, rows: UnsafeBufferPointer<Int32>, margins: UnsafeMutablePointer<Double>,
        threads: Int
    ) {
        addLeafValues(Bin.self, data: data, rows: rows.baseAddress, count: rows.count, margins: margins, threads: threads)
    }

    /// `rows[0 ..< count]`, or rows 0 ..< count when `rows` is nil.
    private func addLeafValues<Bin: FixedWidthInteger & UnsignedInteger>(
        _: Bin.Type, data: BinnedData, rows: UnsafePointer<Int32>?, count: Int, margins: UnsafeMutablePointer<Double>,
        threads: Int
    ) {
        if nodeCount == 0 {
            for k in 0..<count { margins[rows.map { Int($0[k]) } ?? k] += leafValues[0] }
            return
        }
        let bins = UnsafeSendableBuffer(UnsafeBufferPointer(start: data.bins(Bin.self), count: data.rows * data.features))
        let out = UnsafeMutableSendablePointer(margins)
        let list = rows.map { UnsafeSendableBuffer(UnsafeBufferPointer(start: $0, count: count)) }
        let n = data.rows
        let chunks = min(32, max(1, count / 8192))
        let missing = data.missingBins
        let tree = self
        ParallelFor.run(count: chunks, threads: threads) { c in
            for k in (c * count / chunks)..<((c + 1) * count / chunks) {
                let r = list.map { Int($0.buffer[k]) } ?? k
                var node: Int32 = 0
                while node >= 0 {
                    let i = Int(node)
                    let f = tree.features[i]
                    let bin = Int(bins.buffer[f * n + r])
                    node = tree.goesLeft(i, bin: bin, missingBin: missing[f]) ? tree.lefts[i] : tree.rights[i]
                }
                out.pointer[r] += tree.leafValues[Int(~node)]
            }
        }
    }
}
