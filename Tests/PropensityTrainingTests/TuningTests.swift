import Foundation
import PropensityData
import Testing

@testable import PropensityTraining

@Suite struct SearchSpecTests {
    @Test func aFileOverridesRangesAndFixesValues() throws {
        let space = try SearchSpace.parse(
            """
            # smaller trees, fixed sampling
            num_leaves   4 32 log
            learning_rate 0.05 0.2   # linear
            subsample 0.8
            """)
        #expect(space.ranges[.numLeaves] == SearchRange(4, 32, log: true))
        #expect(space.ranges[.learningRate] == SearchRange(0.05, 0.2, log: false))
        #expect(space.ranges[.subsample]!.isFixed)
        #expect(space.ranges[.maxDepth] == SearchSpace.standard.ranges[.maxDepth])
        // A fixed parameter takes its value; the start is clamped into the new ranges.
        #expect(space.start[.subsample] == 0.8)
        #expect(space.start[.learningRate] == 0.1)
        #expect(space.start[.numLeaves] == 31)
    }

    @Test(arguments: [
        ("leaves 4 32", SearchSpecError(line: 1, problem: .unknownParameter("leaves"))),
        ("l2 1 2\nl2 3 4", SearchSpecError(line: 2, problem: .repeated(.l2))),
        ("\n\nl2 1 2 3 4", SearchSpecError(line: 3, problem: .fieldCount(5))),
        ("l2", SearchSpecError(line: 1, problem: .fieldCount(1))),
        ("l2 1 2 linear", SearchSpecError(line: 1, problem: .expectedLog("linear"))),
        ("l2 one", SearchSpecError(line: 1, problem: .notANumber("one"))),
        ("num_leaves 4.5 8", SearchSpecError(line: 1, problem: .notAnInteger(.numLeaves, "4.5"))),
        ("subsample 0.5 1.5", SearchSpecError(line: 1, problem: .outOfDomain(.subsample, requirement: TunedParameter.subsample.domain.words))),
        ("max_depth 9 3", SearchSpecError(line: 1, problem: .reversed(.maxDepth))),
        ("l2 0 1 log", SearchSpecError(line: 1, problem: .logNeedsPositive(.l2))),
    ])
    func badLinesAreNamed(text: String, expected: SearchSpecError) {
        #expect(throws: expected) { try SearchSpace.parse(text) }
    }
}

@Suite struct TPESamplerTests {
    /// A smooth objective with its peak inside the standard space (learning rate 0.05, 24 leaves).
    static func score(_ p: [TunedParameter: Double]) -> Double {
        let lr = log(p[.learningRate]! / 0.05), leaves = log(p[.numLeaves]! / 24)
        let sampling: Double = abs(p[.subsample]! - 0.9)
        return -(lr * lr) - 0.5 * leaves * leaves - 0.1 * sampling
    }

    func search(seed: UInt64, trials: Int) -> [[TunedParameter: Double]] {
        let sampler = TPESampler(space: .standard, seed: seed)
        var history: [TPESampler.Observation] = []
        for t in 0..<trials {
            let p = sampler.point(trial: t, history: history)
            history.append(.init(point: p, score: Self.score(p)))
        }
        return history.map(\.point)
    }

    @Test func pointsAreReproducibleInRangeAndStartAtTheDefaults() {
        let a = search(seed: 7, trials: 30)
        #expect(a == search(seed: 7, trials: 30))
        #expect(a != search(seed: 8, trials: 30))
        #expect(a[0] == SearchSpace.standard.start)
        for point in a {
            for (parameter, value) in point {
                let range = SearchSpace.standard.ranges[parameter]!
                #expect(value >= range.low && value <= range.high, "\(parameter) = \(value)")
                if parameter.isInteger { #expect(value == value.rounded()) }
            }
        }
    }

    /// The model earns its keep: the trials after the random start score better than the random ones, and than
    /// uniformly random points do.
    @Test func theModelConcentratesOnTheGoodRegion() {
        for seed: UInt64 in [1, 2, 3] {
            let points = search(seed: seed, trials: 50)
            let random = points[1..<10].map(Self.score)
            let modelled = points[30..<50].map(Self.score)
            let median = { (x: [Double]) in x.sorted()[x.count / 2] }
            #expect(median(modelled) > median(random), "seed \(seed)")
            var uniform = TPESampler(space: .standard, seed: seed &+ 99)
            uniform.startupTrials = .max
            let uniformScores = (1...50).map { t in Self.score(uniform.point(trial: t, history: [])) }
            #expect(median(modelled) > median(uniformScores), "seed \(seed)")
        }
    }
}

@Suite struct TunerTests {
    static let data = try! GBDTTests.synthetic(rows: 900, seed: 31)

    func options(trials: Int, threads: Int = 2) -> TuningOptions {
        var o = TuningOptions()
        o.trials = trials
        o.maxTrees = 60
        o.patience = 10
        o.startupTrials = 3
        o.threads = threads
        o.seed = 5
        return o
    }

    func tune(_ options: TuningOptions, folds: [Int]? = nil) throws(TuningError) -> TuningResult {
        let (table, labels) = Self.data
        var base = GBDTOptions()
        base.logEvery = 0
        return try Tuner.run(
            table: table, labels: labels, weights: nil,
            folds: folds ?? StratifiedSplit.folds(labels: labels, count: 3, seed: 5), labelColumn: "y", base: base,
            options: options, scheme: "stratified")
    }

    @Test func aSearchIsReproducibleAtAnyThreadCountAndRecordsItself() throws {
        let one = try tune(options(trials: 6, threads: 1))
        let two = try tune(options(trials: 6, threads: 2))
        #expect(one.trials.count == 6)
        for (a, b) in zip(one.trials, two.trials) {
            #expect(a.point == b.point)
            #expect(a.meanAUC.bitPattern == b.meanAUC.bitPattern)
            #expect(a.trees == b.trees && a.pruned == b.pruned)
        }
        let best = one.best
        #expect(best.meanAUC > 0.75)
        #expect(one.trials.allSatisfy { $0.pruned || $0.meanAUC <= best.meanAUC })
        #expect(one.leaderboard.first?.number == best.number)
        #expect(one.trials.allSatisfy { $0.trees >= 1 && $0.trees <= $0.grown && $0.grown <= 60 })
        let properties = Dictionary(uniqueKeysWithValues: one.properties)
        #expect(properties["tuning_trials"] == "6")
        #expect(properties["tuning_best_trial"] == String(best.number))
        #expect(properties["tuning_best_parameters"] == best.parameters)
        #expect(properties["tuning_folds"] == "3 (stratified)")
        #expect(Dictionary(uniqueKeysWithValues: one.metrics)["cv_auc"] == best.meanAUC)
    }

    /// A trial's fold AUCs are what cross-validating its point with its tree count gives: the lockstep boosting on
    /// pre-binned folds is the same fit as `cv`'s.
    @Test func aTrialsFoldsAreCrossValidationsFolds() throws {
        let (table, labels) = Self.data
        let folds = StratifiedSplit.folds(labels: labels, count: 3, seed: 5)
        var o = options(trials: 1)
        o.pruning = false
        let base = GBDTOptions()
        let data = try TuningFolds(
            table: table, labels: labels, weights: nil, assignment: folds, labelColumn: "y", base: base, threads: 2)
        let point = SearchSpace.standard.start
        let run = data.evaluate(
            o.space.options(point, base: base), maxTrees: 40, patience: 100, threads: 2, prune: { _, _ in false })
        #expect(run.grown == 40)
        var fit = o.space.options(point, base: base)
        fit.trees = run.trees
        fit.logEvery = 0
        let cv = try CrossValidation.run(
            table: table, labels: labels, weights: nil, folds: folds,
            settings: TrainingSettings(label: "y", algorithm: .gbdt(fit)), threads: 2, scheme: "stratified")
        for (auc, fold) in zip(run.foldAUCs, cv.folds) {
            #expect(abs(auc - fold.metrics.auc) < 1e-12, "fold \(fold.index): \(auc) vs \(fold.metrics.auc)")
        }
    }

    @Test func theBudgetIsRequiredAndPositive() {
        var o = options(trials: 0)
        #expect(throws: TuningError.invalid(option: "trials", requirement: "at least 1")) { try tune(o) }
        o.trials = nil
        #expect(throws: TuningError.noBudget) { try tune(o) }
        o.timeLimit = -1
        #expect(throws: TuningError.invalid(option: "time-limit", requirement: "a positive number of seconds")) {
            try tune(o)
        }
        o = options(trials: 2)
        o.patience = 0
        #expect(throws: TuningError.invalid(option: "patience", requirement: "at least 1")) { try tune(o) }
    }

    @Test func aFoldWithoutAClassIsRefusedBeforeAnyTrial() {
        let labels = Self.data.1
        // Fold 0 holds every positive and nothing else.
        let folds = labels.map { $0 == 1 ? 0 : 1 }
        let positives = labels.filter { $0 == 1 }.count
        #expect(throws: TuningError.training(.foldWithoutClass(fold: 1, folds: 2, positives: positives, rows: positives))) {
            try tune(options(trials: 2), folds: folds)
        }
    }

    @Test func aTimeLimitEndsTheSearchAfterAtLeastOneTrial() throws {
        var o = options(trials: 0)
        o.trials = nil
        o.timeLimit = 1e-9
        let result = try tune(o)
        #expect(result.trials.count == 1)
    }
}
