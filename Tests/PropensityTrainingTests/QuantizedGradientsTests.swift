import Foundation
import PropensityData
import PropensityMetrics
import PropensityModel
import Testing

@testable import PropensityTraining

/// Quantized training (`GBDTOptions.gradientBins`): the packing, the rounding, and trees whose leaves come from the
/// exact gradients.
@Suite struct QuantizedGradientsTests {
    @Test func layoutsHoldTheSumsOfEveryRow() {
        // 800k rows at 4 levels: sums up to 3.2M need 22 bits, the count 20: one word exactly.
        #expect(QuantizedGradients.Layout.choose(levels: 4, rows: 800_000) == .word(fieldBits: 22, countBits: 20))
        #expect(QuantizedGradients.Layout.choose(levels: 16, rows: 800_000) == .pair)
        #expect(QuantizedGradients.Layout.choose(levels: 64, rows: 100_000_000) == nil)
        #expect(QuantizedGradients.Layout.choose(levels: 2, rows: 1) == .word(fieldBits: 2, countBits: 1))
    }

    /// Rows packed in either layout sum, integer-wise, to the sums of their decoded rows, with the right count;
    /// each row's levels are integers in range within one step of the real value, and the rounding is unbiased.
    @Test(arguments: [false, true]) func packedRowsSumToTheirDecodedRows(pair: Bool) {
        let rows = 20_000, levels = 4
        var rng = SplitMix64(seed: 9)
        // Row 0 sets the scales (|g| max 1 → 0.5 per level; h max 0.25 → 1/16 per level); the rest sit between levels.
        var gh = (0..<rows).map { _ in SIMD2<Float>(Float(rng.nextUnit() * 2 - 1), Float(rng.nextUnit() * 0.25)) }
        gh[0] = SIMD2(1, 0.25)
        for i in 1..<1000 { gh[i] = SIMD2(0.37, 0.1) }
        let layout = pair ? .pair : QuantizedGradients.Layout.choose(levels: levels, rows: rows)!
        var q = QuantizedGradients(levels: levels, layout: layout, rows: rows)
        defer { q.deallocate() }
        gh.withUnsafeBufferPointer { q.quantize($0.baseAddress!, rows: rows, bag: nil, seed: 3, iteration: 2, threads: 2) }
        // A bag quantizes its own rows only, with its own scales.
        var bagged = QuantizedGradients(levels: levels, layout: layout, rows: rows)
        defer { bagged.deallocate() }
        gh.withUnsafeBufferPointer {
            bagged.quantize($0.baseAddress!, rows: rows, bag: [5, 1500, 7], seed: 3, iteration: 2, threads: 2)
        }
        #expect(bagged.gradientScale == Double(max(abs(gh[1500].x), abs(gh[5].x))) / 2)
        #expect(q.gradientScale == 0.5)
        #expect(q.hessianScale == 0.25 / 4)
        var expected = HistogramBin(), sharedLevel = 0.0
        for i in 0..<rows {
            let row = q.decode(q.packed + i * q.stride)
            #expect(row.n == 1)
            let g = row.g / q.gradientScale, h = row.h / q.hessianScale
            #expect(g == g.rounded() && abs(g) <= 2 && h == h.rounded() && h >= 0 && h <= 4)
            #expect(abs(row.g - Double(gh[i].x)) < q.gradientScale && abs(row.h - Double(gh[i].y)) < q.hessianScale)
            if (1..<1000).contains(i) { sharedLevel += g / 999 }
            expected.gh += row.gh
            expected.n += 1
        }
        // 0.37 / 0.5 = 0.74 levels: rounded up 74 % of the time (standard deviation of the mean ≈ 0.014).
        #expect(abs(sharedLevel - 0.74) < 0.06, "mean level \(sharedLevel)")
        let total: HistogramBin
        if pair {
            let p = q.packed.assumingMemoryBound(to: SIMD2<UInt64>.self)
            var sum = SIMD2<UInt64>.empty
            for i in 0..<rows { sum.add(p[i]) }
            total = withUnsafeBytes(of: sum) { q.decode($0.baseAddress!) }
        } else {
            let p = q.packed.assumingMemoryBound(to: UInt64.self)
            var sum = UInt64.empty
            for i in 0..<rows { sum.add(p[i]) }
            total = withUnsafeBytes(of: sum) { q.decode($0.baseAddress!) }
        }
        #expect(total.n == rows)
        #expect(abs(total.g - expected.g) < 1e-9 && abs(total.h - expected.h) < 1e-9)
    }

    /// Every leaf's value (times the learning rate) and cover are those of the exact gradients of the rows that reach
    /// it, recomputed here tree by tree from the margins; on quantized sums they would be off by a few percent. With
    /// 9,000 training rows and 2 threads, nodes are partitioned and gathered in parallel chunks
    /// (`TreeLearner.parallelRows`): a row the concatenation misplaced would sit in another leaf's sums.
    @Test(arguments: [(4, 2000, 1), (64, 2000, 1), (4, 12_000, 2)])
    func leavesAndCoversComeFromTheExactGradients(levels: Int, rows: Int, threads: Int) throws {
        let (table, labels) = try GBDTTests.synthetic(rows: rows)
        var options = GBDTOptions()
        options.trees = 4
        options.numLeaves = 12
        options.logEvery = 0
        options.l2 = 1
        options.gradientBins = levels
        options.threads = threads
        let trainRows = Array(0..<(rows * 3 / 4))
        let fit = try GBDTTrainer.fit(
            table: table, labels: labels, trainRows: trainRows, validationRows: [], labelColumn: "y", options: options)
        let model = fit.model
        let inputs = try table.inputRows(model.schema.inputSpecs)
        let width = model.schema.count
        var margins = [Double](repeating: model.baseScore, count: trainRows.count)
        for tree in model.trees {
            var sums = [SIMD2<Double>](repeating: .zero, count: tree.leafValues.count)
            var leafOf = [Int](repeating: 0, count: trainRows.count)
            for (k, row) in trainRows.enumerated() {
                let z = margins[k]
                let e = exp(-abs(z))
                let p = z >= 0 ? 1 / (1 + e) : e / (1 + e)
                let g = Float(p - Double(labels[row])), h = Float(max(p * (1 - p), 1e-16))
                leafOf[k] = tree.leaf(for: Array(inputs[(row * width)..<((row + 1) * width)]), schema: model.schema)
                sums[leafOf[k]] += SIMD2(Double(g), Double(h))
            }
            for (leaf, sum) in sums.enumerated() {
                let value = -sum.x / (sum.y + options.l2) * options.learningRate
                #expect(abs(tree.leafValues[leaf] - value) <= 1e-9 * max(1, abs(value)), "leaf \(leaf)")
                #expect(abs(tree.covers[tree.nodes.count + leaf] - sum.y) <= 1e-9 * sum.y, "leaf \(leaf) cover")
            }
            #expect(abs(tree.covers[0] - sums.reduce(0) { $0 + $1.y }) <= 1e-9 * tree.covers[0])
            for k in margins.indices { margins[k] += tree.leafValues[leafOf[k]] }
        }
        #expect(fit.trainMargins == margins || zip(fit.trainMargins, margins).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    /// The layouts pack the same integers, so they grow the same trees; so do any thread counts (the rounding draws
    /// hash the row, not a shared stream). And quantized trees predict about as well as exact ones.
    @Test func sameTreesWhateverTheLayoutOrThreadCountAndAccuracyHolds() throws {
        let (table, labels) = try GBDTTests.synthetic(rows: 3000)
        let (train, validation) = StratifiedSplit.split(labels: labels, validationFraction: 0.25, seed: 1)
        func fit(_ configure: (inout GBDTOptions) -> Void) throws -> GBDTFit {
            var options = GBDTOptions()
            options.trees = 30
            options.numLeaves = 20
            options.subsample = 0.8
            options.logEvery = 0
            configure(&options)
            return try GBDTTrainer.fit(
                table: table, labels: labels, trainRows: train, validationRows: validation, labelColumn: "y",
                options: options)
        }
        let word = try fit { $0.gradientBins = 8; $0.threads = 1 }
        let pair = try fit { $0.gradientBins = 8; $0.threads = 1; $0.quantizedLayout = .pair }
        let threads = try fit { $0.gradientBins = 8; $0.threads = 3 }
        #expect(word.model == pair.model)
        #expect(word.model == threads.model)
        let exact = try fit { _ in }
        let heldOut = validation.map { labels[$0] }
        let exactAUC = RankMetrics.auc(scores: exact.validationMargins, labels: heldOut)
        for levels in [4, 16] {
            let quantized = try fit { $0.gradientBins = levels }
            #expect(quantized.model != exact.model)
            let auc = RankMetrics.auc(scores: quantized.validationMargins, labels: heldOut)
            #expect(abs(auc - exactAUC) < 0.01, "\(levels) levels: AUC \(auc) against \(exactAUC) exact")
        }
    }
}
