import PropensityModel
import Synchronization

/// Counts live requests into a model's reference bins over a rolling window, for the server's drift gauges.
///
/// Counters are sharded by writer: each event loop owns one shard, so the request path updates its counters with
/// relaxed loads and stores (no lock, no read-modify-write, no cache line shared with another writer). Each shard
/// keeps `slots` time slots of `window / slots`; a writer entering a new slot clears it first. A reader sums the
/// slots inside the window over all shards. Reads race with writes only in the benign way of a gauge: a slot being
/// cleared or filled may be counted partly. Memory: `shards × slots × (bins + 2)` 64-bit counters, fixed at creation.
public final class DriftMonitor: @unchecked Sendable {
    public let profile: DriftProfile
    public let shards: Int
    public let slots: Int
    public let slotNanoseconds: UInt64
    /// Every `sampleEvery`-th row of a shard is counted (1: all).
    public let sampleEvery: Int

    private let plan: Plan
    /// Per shard: `slots` slots of `[epoch, rows, bins…]`, then one word, the shard's row counter for sampling.
    private let slotWords: Int
    private let shardWords: Int
    private let storage: UnsafeMutablePointer<Atomic<UInt64>>
    private let wordCount: Int
    private static let noEpoch = UInt64.max

    /// - Parameters:
    ///   - shards: how many writers (event loops); shard `i` must only ever be written by one thread at a time.
    ///   - window: how far back the counts reach.
    ///   - slots: the window's granularity: counts leave it `window / slots` at a time.
    public init(profile: DriftProfile, shards: Int, window: Duration, slots: Int = 12, sampleEvery: Int = 1) {
        precondition(shards >= 1 && slots >= 1 && sampleEvery >= 1)
        self.profile = profile
        self.shards = shards
        self.slots = slots
        self.sampleEvery = sampleEvery
        let (seconds, attoseconds) = window.components
        let windowNanos = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
        slotNanoseconds = max(1, windowNanos / UInt64(slots))
        plan = Plan(profile)
        slotWords = 2 + plan.binTotal
        shardWords = slots * slotWords + 1
        wordCount = shards * shardWords
        storage = .allocate(capacity: wordCount)
        for s in 0..<shards {
            for w in 0..<shardWords {
                let isEpoch = w < slots * slotWords && w % slotWords == 0
                (storage + s * shardWords + w).initialize(to: Atomic(isEpoch ? Self.noEpoch : 0))
            }
        }
    }

    deinit {
        storage.deinitialize(count: wordCount)
        storage.deallocate()
    }

    /// Counts scored rows: `features` are `rowCount × columns` little-endian float32 (the wire layout, any
    /// alignment), `scores` `rowCount` float32. `now` is a monotonic time in nanoseconds. Only shard `shard`'s own
    /// writer may call this.
    public func record(
        features: UnsafeRawBufferPointer, rowCount: Int, scores: UnsafeRawBufferPointer, shard: Int, now: UInt64
    ) {
        guard shard >= 0, shard < shards, rowCount > 0 else { return }
        let base = storage + shard * shardWords
        let epoch = now / slotNanoseconds
        let slot = base + Int(epoch % UInt64(slots)) * slotWords
        if slot.pointee.load(ordering: .relaxed) != epoch {
            for w in 1..<slotWords { (slot + w).pointee.store(0, ordering: .relaxed) }
            slot.pointee.store(epoch, ordering: .relaxed)
        }
        let sampler = base + slots * slotWords
        var seen = Int(sampler.pointee.load(ordering: .relaxed))
        let bins = slot + 2
        var counted: UInt64 = 0
        let width = plan.columns
        for row in 0..<rowCount {
            seen += 1
            if seen < sampleEvery { continue }
            seen = 0
            counted += 1
            let rowStart = row * width * 4
            for j in 0..<width {
                let x = features.loadUnaligned(fromByteOffset: rowStart + j * 4, as: UInt32.self)
                bump(bins + plan.bin(Float(bitPattern: UInt32(littleEndian: x)), column: j))
            }
            let score = scores.loadUnaligned(fromByteOffset: row * 4, as: UInt32.self)
            bump(bins + plan.bin(Float(bitPattern: UInt32(littleEndian: score)), column: width))
        }
        sampler.pointee.store(UInt64(seen), ordering: .relaxed)
        if counted > 0 {
            let rows = slot + 1
            rows.pointee.store(rows.pointee.load(ordering: .relaxed) &+ counted, ordering: .relaxed)
        }
    }

    @inline(__always) private func bump(_ counter: UnsafeMutablePointer<Atomic<UInt64>>) {
        counter.pointee.store(counter.pointee.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    /// The counts of the slots inside the window ending at `now`, over all shards.
    public func counts(now: UInt64) -> DriftCounts {
        var result = DriftCounts(shapedLike: profile)
        let current = now / slotNanoseconds
        var flat = [UInt64](repeating: 0, count: plan.binTotal)
        for s in 0..<shards {
            for k in 0..<slots {
                let slot = storage + s * shardWords + k * slotWords
                let epoch = slot.pointee.load(ordering: .relaxed)
                guard epoch != Self.noEpoch, epoch <= current, current - epoch < UInt64(slots) else { continue }
                result.rows += (slot + 1).pointee.load(ordering: .relaxed)
                for b in 0..<plan.binTotal { flat[b] += (slot + 2 + b).pointee.load(ordering: .relaxed) }
            }
        }
        for j in 0..<plan.columns {
            result.columns[j] = Array(flat[plan.start(j)..<plan.start(j + 1)])
        }
        result.score = Array(flat[plan.start(plan.columns)..<plan.binTotal])
        return result
    }

    /// The profile flattened for the request path into buffers owned by the monitor: one column's bins after
    /// another, the score's last; each column's particulars in one small record (one cache line holds four), its
    /// edges or category lookup in shared buffers.
    final class Plan {
        struct Column {
            /// Where the column's bins start among all bins; its missing bin there; its edges or lookup.
            var start: Int32
            var missing: Int32
            var table: Int32
            var tableCount: Int32
            var numeric: Bool
        }

        let columns: Int
        let binTotal: Int
        private let plans: UnsafeMutableBufferPointer<Column>
        /// Numeric edges as order-preserving integers (`orderKey`), so that counting those below a value is
        /// arithmetic: compares compiled to a branch per edge, mispredicted on most values.
        private let edges: UnsafeMutableBufferPointer<Int64>
        private let lookup: UnsafeMutableBufferPointer<Int32>

        init(_ profile: DriftProfile) {
            let all = profile.columns + [profile.score]
            columns = profile.columns.count
            func buffer<T>(_ values: [T]) -> UnsafeMutableBufferPointer<T> {
                let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, values.count))
                _ = b.initialize(from: values)
                return b
            }
            var plans: [Column] = []
            var total = 0
            var edges: [Int64] = [], lookup: [Int32] = []
            for bins in all {
                let start = Int32(total), missing = Int32(total + bins.missingBin)
                switch bins.kind {
                case .numeric(let e):
                    plans.append(Column(
                        start: start, missing: missing, table: Int32(edges.count), tableCount: Int32(e.count), numeric: true))
                    edges += e.map(Self.orderKey)
                case .categorical:
                    plans.append(Column(
                        start: start, missing: missing, table: Int32(lookup.count),
                        tableCount: Int32(bins.categoryBins.count), numeric: false))
                    lookup += bins.categoryBins
                }
                total += bins.binCount
            }
            binTotal = total
            self.plans = buffer(plans)
            self.edges = buffer(edges)
            self.lookup = buffer(lookup)
        }

        deinit {
            plans.deallocate()
            edges.deallocate()
            lookup.deallocate()
        }

        /// A float's position in the order of non-NaN floats as an integer: `a < b` ⇔ `orderKey(a) < orderKey(b)`
        /// (−0 and +0 are one value, as floats compare). The sign-magnitude bits, made two's complement.
        @inline(__always) static func orderKey(_ x: Float) -> Int64 {
            let bits = Int64(Int32(bitPattern: x.bitPattern))
            return bits < 0 ? Int64(Int32.min) - bits : bits
        }

        /// Where column `column`'s bins start among all bins.
        func start(_ column: Int) -> Int { column == plans.count ? binTotal : Int(plans[column].start) }

        /// The bin, among all bins, that `DriftBins.bin(of:)` gives for `x` in column `j` (tested equal).
        @inline(__always) func bin(_ x: Float, column j: Int) -> Int {
            let c = plans[j]
            if x.isNaN { return Int(c.missing) }
            let first = Int(c.table)
            if c.numeric {
                // (edge − x) >> 63 is −1 exactly when x > edge.
                let key = Self.orderKey(x)
                var b = Int64(c.start)
                for k in first..<(first + Int(c.tableCount)) { b &-= (edges[k] &- key) >> 63 }
                return Int(b)
            }
            // Unknown values go to the "other" bin, the one before missing.
            // In range first, so the conversion is defined; a fraction converts to another number (no truncf call).
            guard x >= 0, x < Float(c.tableCount) else { return Int(c.missing) - 1 }
            let index = Int32(x)
            guard Float(index) == x else { return Int(c.missing) - 1 }
            return Int(c.start) + Int(lookup[first + Int(index)])
        }
    }
}
