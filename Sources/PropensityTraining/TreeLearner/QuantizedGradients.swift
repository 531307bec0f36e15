/// Gradients and hessians rounded to a few integer levels for the split search, as LightGBM 4's quantized training
/// (`use_quantized_grad`; Shi et al., "Quantized Training of Gradient Boosting Decision Trees", NeurIPS 2022).
///
/// Each iteration, a row's gradient becomes an integer in `[−levels/2, levels/2]` and its hessian one in
/// `[0, levels]`, by unbiased stochastic rounding against per-iteration scales. A row's statistics are then packed
/// with a count of 1 into one integer, so a histogram update is a single integer add instead of a floating-point
/// pair plus a count, and a bin takes 8 bytes (or 16) instead of 24. Leaf values and covers are recomputed from the
/// exact gradients once the tree's shape is fixed (LightGBM's `quant_train_renew_leaf`).
///
/// Shared with worker threads read-only: only `quantize` writes `packed`, before the learner's jobs read it.
struct QuantizedGradients: @unchecked Sendable {
    /// How a row's (gradient + levels/2, hessian, count) triple is packed. Fields never carry into one another:
    /// the gradient is stored offset to be non-negative and each field is wide enough for the sum over all rows.
    enum Layout: Equatable, Sendable {
        /// One `UInt64`: gradient | hessian | count, `fieldBits`, `fieldBits` and `countBits` wide.
        case word(fieldBits: Int, countBits: Int)
        /// `SIMD2<UInt64>`: (gradient, hessian << 32 | count), for row counts the word cannot hold.
        case pair

        /// The narrowest layout that holds the sums of `rows` rows at `levels` levels; nil when none does.
        static func choose(levels: Int, rows: Int) -> Layout? {
            let countBits = bitWidth(rows)
            let fieldBits = bitWidth(levels * rows)
            if 2 * fieldBits + countBits <= 64 { return .word(fieldBits: fieldBits, countBits: countBits) }
            if rows < 1 << 32 && levels * rows < 1 << 32 { return .pair }
            return nil
        }

        private static func bitWidth(_ value: Int) -> Int { UInt64.bitWidth - UInt64(max(value, 1)).leadingZeroBitCount }
    }

    let levels: Int
    let layout: Layout
    /// The real gradient (hessian) one integer level stands for, this iteration.
    private(set) var gradientScale = 1.0
    private(set) var hessianScale = 1.0
    /// Per row, its packed statistics (`UInt64` or `SIMD2<UInt64>` by layout); rows outside the bag are not written.
    let packed: UnsafeMutableRawPointer

    init(levels: Int, layout: Layout, rows: Int) {
        self.levels = levels
        self.layout = layout
        packed = .allocate(byteCount: max(1, rows) * MemoryLayout<SIMD2<UInt64>>.stride, alignment: 16)
        Self.bind(packed, layout, count: max(1, rows))
    }

    /// Binds `count` packed sums at `memory` to the layout's type.
    static func bind(_ memory: UnsafeMutableRawPointer, _ layout: Layout, count: Int) {
        switch layout {
        case .word: memory.bindMemory(to: UInt64.self, capacity: count)
        case .pair: memory.bindMemory(to: SIMD2<UInt64>.self, capacity: count)
        }
    }

    func deallocate() { packed.deallocate() }

    /// Quantizes this iteration's `gh` for the rows of `bag` (all rows when nil). The rounding draws come from a hash
    /// of (seed, iteration, row), so the result does not depend on the thread count.
    mutating func quantize(
        _ gh: UnsafePointer<SIMD2<Float>>, rows: Int, bag: [Int32]?, seed: UInt64, iteration: Int, threads: Int
    ) {
        let (maxGradient, maxHessian) = Self.maxima(gh, rows: rows, bag: bag, threads: threads)
        let half = levels / 2
        // A zero maximum (every gradient zero) keeps a unit scale: every row rounds to level 0 either way.
        gradientScale = maxGradient > 0 ? Double(maxGradient) / Double(half) : 1
        hessianScale = maxHessian > 0 ? Double(maxHessian) / Double(levels) : 1
        let inverse = SIMD2(1 / gradientScale, 1 / hessianScale)
        let key = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(iteration) &* 0xD1B5_4A32_D192_ED03
        let layout = self.layout
        let offset = SIMD2(Double(half), 0), upper = SIMD2(Double(levels), Double(levels))
        // The buffer is bound to the layout's type only (`init`).
        let words = layout == .pair ? nil : UnsafeMutableSendablePointer(packed.assumingMemoryBound(to: UInt64.self))
        let pairs = layout == .pair ? UnsafeMutableSendablePointer(packed.assumingMemoryBound(to: SIMD2<UInt64>.self)) : nil
        let source = UnsafeSendablePointer(gh)
        func run(_ list: UnsafeSendableBuffer<Int32>?) {
            let n = list?.buffer.count ?? rows
            let chunks = min(64, max(1, n / 16_384))
            ParallelFor.run(count: chunks, threads: threads) { c in
                for k in (c * n / chunks)..<((c + 1) * n / chunks) {
                    let i = list.map { Int($0.buffer[k]) } ?? k
                    let q = Self.round(
                        SIMD2<Double>(source.pointer[i]) * inverse + offset, draw: Self.draws(key, i), upper: upper)
                    let g = UInt64(q.x), h = UInt64(q.y)
                    switch layout {
                    case .word(let fieldBits, let countBits):
                        words!.pointer[i] = g << (fieldBits + countBits) | h << countBits | 1
                    case .pair:
                        pairs!.pointer[i] = SIMD2<UInt64>(g, h << 32 | 1)
                    }
                }
            }
        }
        if let bag { bag.withUnsafeBufferPointer { run(UnsafeSendableBuffer($0)) } } else { run(nil) }
    }

    /// The largest |gradient| and hessian of the rows (chunk maxima in parallel; a maximum is exact in any order).
    private static func maxima(
        _ gh: UnsafePointer<SIMD2<Float>>, rows: Int, bag: [Int32]?, threads: Int
    ) -> (gradient: Float, hessian: Float) {
        let n = bag?.count ?? rows
        let chunks = min(64, max(1, n / 16_384))
        let results = ChunkResults<SIMD2<Float>>(count: chunks)
        let source = UnsafeSendablePointer(gh)
        func run(_ list: UnsafeSendableBuffer<Int32>?) {
            ParallelFor.run(count: chunks, threads: threads) { c in
                var m = SIMD2<Float>(0, 0)
                for k in (c * n / chunks)..<((c + 1) * n / chunks) {
                    let v = source.pointer[list.map { Int($0.buffer[k]) } ?? k]
                    m = pointwiseMax(m, SIMD2(abs(v.x), v.y))
                }
                results.set(c, m)
            }
        }
        if let bag { bag.withUnsafeBufferPointer { run(UnsafeSendableBuffer($0)) } } else { run(nil) }
        let m = results.values().reduce(SIMD2<Float>(0, 0)) { pointwiseMax($0, $1) }
        return (m.x, m.y)
    }

    /// ⌊x + u⌋ per lane with u uniform in [0, 1): an integer whose expectation is x, for x in [0, upper] (the
    /// gradient lane arrives offset by levels/2). Clamped first, so the conversion truncates a non-negative value
    /// (that is ⌊⌋, without a libm call on the baseline target); the scaled extreme can pass a bound by an ulp, and a
    /// NaN lands on 0 rather than trapping.
    @inline(__always)
    static func round(_ x: SIMD2<Double>, draw: SIMD2<Double>, upper: SIMD2<Double>) -> SIMD2<Int> {
        let v = x + draw
        @inline(__always) func lane(_ v: Double, _ upper: Double) -> Int { Int(v > 0 ? (v < upper ? v : upper) : 0) }
        return SIMD2(lane(v.x, upper.x), lane(v.y, upper.y))
    }

    /// Two uniform draws in [0, 1) for row `i` (SplitMix64 finalizer of the key and the row).
    @inline(__always)
    static func draws(_ key: UInt64, _ i: Int) -> SIMD2<Double> {
        var z = key &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let unit = 1.0 / Double(1 << 32)
        return SIMD2(Double(z >> 32) * unit, Double(z & 0xFFFF_FFFF) * unit)
    }

    /// The exact sums a packed bin stands for, in real units.
    @inline(__always)
    func decode(_ g: UInt64, _ h: UInt64, _ n: UInt64) -> HistogramBin {
        let gradient = Int64(bitPattern: g) - Int64(levels / 2) * Int64(bitPattern: n)
        return HistogramBin(gh: SIMD2(Double(gradient) * gradientScale, Double(h) * hessianScale), n: Int(n))
    }

    /// One packed sum (a `UInt64` or a `SIMD2<UInt64>`, by layout) decoded.
    @inline(__always)
    func decode(_ sums: UnsafeRawPointer) -> HistogramBin {
        switch layout {
        case .word(let fieldBits, let countBits): decode(word: sums.load(as: UInt64.self), fieldBits, countBits)
        case .pair: decode(pair: sums.loadUnaligned(as: SIMD2<UInt64>.self))
        }
    }

    @inline(__always)
    private func decode(word x: UInt64, _ fieldBits: Int, _ countBits: Int) -> HistogramBin {
        decode(x >> (fieldBits + countBits), x >> countBits & (1 << fieldBits - 1), x & (1 << countBits - 1))
    }

    @inline(__always)
    private func decode(pair x: SIMD2<UInt64>) -> HistogramBin { decode(x.x, x.y >> 32, x.y & 0xFFFF_FFFF) }

    /// Bytes a packed sum takes.
    var stride: Int {
        switch layout {
        case .word: MemoryLayout<UInt64>.stride
        case .pair: MemoryLayout<SIMD2<UInt64>>.stride
        }
    }

    /// Decodes feature `f`'s bins of a packed histogram (bound to the layout's type, `bind`) into `histogram`; the
    /// layout is matched once, not per bin.
    func decode(
        _ packedHistogram: UnsafeRawPointer, into histogram: UnsafeMutablePointer<HistogramBin>, data: BinnedData,
        feature f: Int
    ) {
        let bins = data.histogramOffsets[f]..<(data.histogramOffsets[f] + data.mappers[f].totalBins)
        switch layout {
        case .word(let fieldBits, let countBits):
            let words = packedHistogram.assumingMemoryBound(to: UInt64.self)
            for b in bins { histogram[b] = decode(word: words[b], fieldBits, countBits) }
        case .pair:
            let pairs = packedHistogram.assumingMemoryBound(to: SIMD2<UInt64>.self)
            for b in bins { histogram[b] = decode(pair: pairs[b]) }
        }
    }
}

extension UInt64: HistogramSums {
    static var empty: UInt64 { 0 }

    @inline(__always)
    mutating func add(_ row: UInt64) { self &+= row }

    @inline(__always)
    mutating func subtract(_ other: UInt64) { self &-= other }
}

extension SIMD2: HistogramSums where Scalar == UInt64 {
    static var empty: SIMD2<UInt64> { .zero }

    @inline(__always)
    mutating func add(_ row: SIMD2<UInt64>) { self &+= row }

    @inline(__always)
    mutating func subtract(_ other: SIMD2<UInt64>) { self &-= other }
}
