import Foundation
import PropensityData
import PropensityInput
import PropensityMetrics
import PropensityModel
import Testing

@testable import PropensityTraining

/// Small, fast checks of the boosting trainer (the accuracy comparison with LightGBM is in GBDTParityTests).
@Suite struct GBDTTests {
    /// Rows with a numeric signal, a categorical signal, missing values that carry signal, noise and a constant.
    static func synthetic(rows: Int = 3000, seed: UInt64 = 5) throws -> (Table, [UInt8]) {
        var rng = SplitMix64(seed: seed)
        var text = "x,c,m,noise,k,y\n"
        let cats = ["a", "b", "c", "d", "e", "f", "g", "h"]
        for _ in 0..<rows {
            let x = rng.nextGaussian()
            let c = rng.nextInt(below: cats.count)
            let missing = rng.nextUnit() < 0.3
            let m = rng.nextGaussian()
            var logit = 1.5 * x + ([1, 4, 6].contains(c) ? 1.2 : -0.8)
            logit += missing ? 1.0 : 0.3 * m
            let y = rng.nextUnit() < 1 / (1 + exp(-logit)) ? 1 : 0
            text += "\(x),\(cats[c]),\(missing ? "" : String(m)),\(rng.nextGaussian()),7,\(y)\n"
        }
        let table = try CSVReader.parse(text, options: CSVOptions(categorical: ["y"]))
        return (table, try LabelReader.read(table, column: "y", positive: nil).values)
    }

    func fit(_ table: Table, _ labels: [UInt8], _ configure: (inout GBDTOptions) -> Void = { _ in })
        throws -> GBDTFit
    {
        var options = GBDTOptions()
        options.trees = 30
        options.logEvery = 0
        configure(&options)
        let (train, validation) = StratifiedSplit.split(labels: labels, validationFraction: 0.25, seed: 1)
        return try GBDTTrainer.fit(
            table: table, labels: labels, trainRows: train, validationRows: validation, labelColumn: "y",
            options: options)
    }

    @Test func learnsAndUsesNativeCategoricalSplitsAndMissingDirections() throws {
        let (table, labels) = try Self.synthetic()
        let result = try fit(table, labels)
        let (_, validation) = StratifiedSplit.split(labels: labels, validationFraction: 0.25, seed: 1)
        let auc = RankMetrics.auc(scores: result.validationMargins, labels: validation.map { labels[$0] })
        #expect(auc > 0.8, "validation AUC \(auc)")
        let trees = result.model.trees
        #expect(trees.contains { $0.nodes.contains { $0.kind == .categorical } })
        // Missing values of `m` are informative: some split on it must send them one way on purpose.
        let m = Int32(result.model.schema.index(of: "m")!)
        #expect(trees.contains { $0.nodes.contains { $0.feature == m } })
        // Importance ranks the signals above noise; the constant column is never split.
        let importance = Dictionary(uniqueKeysWithValues: zip(result.model.schema.names, result.model.importance))
        #expect(importance["x"]!.gain > importance["noise"]!.gain)
        #expect(importance["k"]!.splits == 0)
    }

    @Test func scorerAndModelAgreeWithTheTrainersMargins() throws {
        let (table, labels) = try Self.synthetic(rows: 1500)
        let result = try fit(table, labels) { $0.numLeaves = 12 }
        let model = Model(body: .treeEnsemble(result.model), metadata: ModelMetadata())
        let (_, validation) = StratifiedSplit.split(labels: labels, validationFraction: 0.25, seed: 1)
        let inputs = try table.inputRows(model.schema.inputSpecs)
        let width = model.schema.count
        let scores = PropensityScoringBridge.score(model, inputs)
        for (k, row) in validation.enumerated() {
            let raw = Array(inputs[(row * width)..<((row + 1) * width)])
            let expected = Sigmoid.of(result.validationMargins[k])
            #expect(abs(model.probability(raw) - expected) < 1e-12)
            #expect(abs(Double(scores[row]) - expected) < 1e-6)
        }
    }

    @Test func sameModelWhateverTheThreadCount() throws {
        let (table, labels) = try Self.synthetic(rows: 2000)
        let configure: (inout GBDTOptions) -> Void = {
            $0.numLeaves = 20
            $0.subsample = 0.7
            $0.colsample = 0.6
            $0.l2 = 1
        }
        let one = try fit(table, labels) { configure(&$0); $0.threads = 1 }
        let two = try fit(table, labels) { configure(&$0); $0.threads = 2 }
        let three = try fit(table, labels) { configure(&$0); $0.threads = 3 }
        #expect(one.model == two.model)
        #expect(one.model == three.model)
    }

    /// The branch-free walks that add each tree to the out-of-bag and held-out margins land every row in the leaf
    /// the plain walk (`referenceGoesLeft`, node by node) finds: numeric, categorical and missing bins, deep trees;
    /// byte bins (one left-mask lookup per step) and 16-bit bins (threshold, missing and category tests).
    @Test(arguments: [255, 1000]) func marginsFollowEachRowToItsLeaf(maxBin: Int) throws {
        let (table, labels) = try Self.synthetic(rows: 1500)
        let columns = table.columns.filter { $0.name != "y" }
        let (train, heldOut) = StratifiedSplit.split(labels: labels, validationFraction: 0.3, seed: 2)
        var options = GBDTOptions()
        options.numLeaves = 40
        options.maxDepth = 12
        options.minSamplesLeaf = 2
        options.subsample = 0.6
        options.learningRate = 0.3
        options.maxBin = maxBin
        let binned = GBDTTrainer.bin(columns: columns, trainRows: train, otherRows: [heldOut], options: options)
        #expect(binned.train.wide == (maxBin > 255))
        if binned.train.wide {
            try checkWalks(Booster<UInt16>.self, binned: binned, labels: labels, train: train, heldOut: heldOut, options: options)
        } else {
            try checkWalks(Booster<UInt8>.self, binned: binned, labels: labels, train: train, heldOut: heldOut, options: options)
        }
    }

    private func checkWalks<Bin>(
        _: Booster<Bin>.Type, binned: GBDTTrainer.Binned, labels: [UInt8], train: [Int],
        heldOut: [Int], options: GBDTOptions
    ) throws {
        let booster = Booster<Bin>(
            train: binned.train, validation: binned.others[0], labels: labels, trainRows: train,
            validationRows: heldOut, weights: nil, options: options)
        for _ in 0..<12 { booster.addTree() }
        func reference(_ data: BinnedData) -> [Double] {
            let bins = data.bins(Bin.self)
            return (0..<data.rows).map { r in
                booster.trees.reduce(booster.base) { margin, tree in
                    guard tree.nodeCount > 0 else { return margin + tree.leafValues[0] }
                    var node: Int32 = 0
                    while node >= 0 {
                        let i = Int(node), f = tree.features[i]
                        let left = tree.referenceGoesLeft(i, bin: Int(bins[f * data.rows + r]), missingBin: data.missingBins[f])
                        node = left ? tree.lefts[i] : tree.rights[i]
                    }
                    return margin + tree.leafValues[Int(~node)]
                }
            }
        }
        #expect(booster.trees.contains { $0.isCategorical.contains(true) })
        #expect(booster.trees.contains { tree in (0..<tree.nodeCount).contains { tree.lefts[$0] >= 0 && tree.rights[$0] < 0 } })
        // Margins are sums of the same leaf values in the same order: equal to the last bit.
        #expect(booster.validationMargins == reference(binned.others[0]))
        #expect(booster.margins == reference(binned.train))
    }

    @Test func growthLimits() throws {
        let (table, labels) = try Self.synthetic(rows: 2000)
        let depthWise = try fit(table, labels) { $0.maxDepth = 3 }
        #expect(depthWise.model.trees.allSatisfy { $0.leafValues.count <= 8 })
        let leafWise = try fit(table, labels) { $0.numLeaves = 5 }
        #expect(leafWise.model.trees.allSatisfy { $0.leafValues.count <= 5 })
        #expect(leafWise.model.trees.contains { $0.leafValues.count == 5 })
        let stumps = try fit(table, labels) { $0.maxDepth = 1 }
        #expect(stumps.model.trees.allSatisfy { $0.nodes.count == 1 })
    }

    @Test func earlyStoppingKeepsTheBestIteration() throws {
        let (table, labels) = try Self.synthetic(rows: 1500)
        let result = try fit(table, labels) {
            $0.trees = 400
            $0.learningRate = 0.5
            $0.earlyStoppingRounds = 5
        }
        #expect(result.stoppedEarly)
        #expect(result.model.trees.count == result.treeCount)
        #expect(result.treeCount < 400)
        let (_, validation) = StratifiedSplit.split(labels: labels, validationFraction: 0.25, seed: 1)
        let loss = GBDTTrainer.logLoss(result.validationMargins, validation.map { labels[$0] })
        #expect(abs(loss - result.bestValidationLogLoss!) < 1e-9)
    }

    @Test func nonsenseParametersAreRefused() throws {
        let (table, labels) = try Self.synthetic(rows: 200)
        let cases: [(TrainingParameter, (inout GBDTOptions) -> Void)] = [
            (.trees, { $0.trees = 0 }), (.learningRate, { $0.learningRate = -0.1 }),
            (.maxBin, { $0.maxBin = 1 }), (.maxBin, { $0.maxBin = 70_000 }),
            (.subsample, { $0.subsample = 0 }), (.subsample, { $0.subsample = 1.5 }),
            (.colsample, { $0.colsample = 0 }), (.numLeaves, { $0.numLeaves = 1 }),
            (.maxDepth, { $0.maxDepth = 0 }), (.scalePositiveWeight, { $0.scalePositiveWeight = 0 }),
            (.gradientBins, { $0.gradientBins = 3 }), (.gradientBins, { $0.gradientBins = 0 }),
            (.gradientBins, { $0.gradientBins = 66 }),
        ]
        for (parameter, configure) in cases {
            let error = #expect(throws: TrainingError.self) { try fit(table, labels, configure) }
            guard case .invalidParameter(let named, _) = error else {
                Issue.record("\(parameter): refused for another reason: \(String(describing: error))")
                continue
            }
            #expect(named == parameter)
        }
    }

    @Test func degenerateInputsAreHandled() throws {
        // A single class is refused.
        let single = try CSVReader.parse("x,y\n1,1\n2,1\n3,1\n4,1\n", options: CSVOptions(categorical: ["y"]))
        #expect(throws: TrainingError.singleClass(positives: 4, rows: 4)) {
            try GBDTTrainer.fit(
                table: single, labels: [1, 1, 1, 1], trainRows: [0, 1, 2, 3], validationRows: [], labelColumn: "y",
                options: GBDTOptions())
        }
        // Constant and all-missing columns only: no split possible, the model is the base rate.
        var text = "k,m,y\n"
        for i in 0..<100 { text += "3,,\(i % 4 == 0 ? 1 : 0)\n" }
        let flat = try CSVReader.parse(text, options: CSVOptions(categorical: ["y"]))
        let labels = try LabelReader.read(flat, column: "y", positive: nil).values
        var options = GBDTOptions()
        options.trees = 5
        options.logEvery = 0
        let result = try GBDTTrainer.fit(
            table: flat, labels: labels, trainRows: Array(0..<100), validationRows: [], labelColumn: "y", options: options)
        #expect(result.model.trees.allSatisfy { $0.nodes.isEmpty })
        #expect(abs(result.model.probability([3, .nan]) - 0.25) < 1e-9)
    }

    @Test func moreCategoriesThanBinsKeepsTheFrequentOnes() throws {
        var text = "c,y\n"
        for i in 0..<600 { text += "v\(i % 30 < 20 ? i % 4 : i % 30),\(i % 4 == 0 ? 1 : 0)\n" }
        let table = try CSVReader.parse(text, options: CSVOptions(categorical: ["y"]))
        let labels = try LabelReader.read(table, column: "y", positive: nil).values
        var options = GBDTOptions()
        options.trees = 10
        options.maxBin = 4
        options.logEvery = 0
        options.minSamplesLeaf = 5
        let result = try GBDTTrainer.fit(
            table: table, labels: labels, trainRows: Array(0..<600), validationRows: [], labelColumn: "y",
            options: options)
        #expect(result.model.schema.features[0].kind.categories?.count == 4)
        #expect(result.notes.count == 1)
        guard case .categoriesCapped(_, let maxBin, let dropped) = result.notes.first else {
            Issue.record("no note about the capped categories: \(result.notes)")
            return
        }
        #expect(maxBin == 4)
        #expect(dropped > 0)
    }
}

extension BinTree {
    /// Whether `bin` of node `i`'s feature goes left, decided node by node as the tree learner's partition does: the
    /// reference for the branch-free walk.
    func referenceGoesLeft(_ i: Int, bin: Int, missingBin: Int) -> Bool {
        if isCategorical[i] {
            let word = bin >> 6
            return word < categoryWordCounts[i] && leftWords[categoryOffsets[i] + word] & (1 << UInt64(bin & 63)) != 0
        }
        return bin == missingBin ? defaultLefts[i] : bin <= thresholdBins[i]
    }
}
