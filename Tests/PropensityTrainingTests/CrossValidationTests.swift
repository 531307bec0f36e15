import PropensityData
import PropensityMetrics
import Testing

@testable import PropensityTraining

@Suite struct CrossValidationTests {
    static let data = try! GBDTTests.synthetic(rows: 1200, seed: 21)

    func run(_ algorithm: TrainingAlgorithm, threads: Int, folds: [Int]) throws -> CrossValidationResult {
        let (table, labels) = Self.data
        return try CrossValidation.run(
            table: table, labels: labels, weights: nil, folds: folds,
            settings: TrainingSettings(label: "y", algorithm: algorithm), threads: threads, scheme: "stratified")
    }

    @Test func theResultDoesNotDependOnTheThreadCount() throws {
        let folds = StratifiedSplit.folds(labels: Self.data.1, count: 4, seed: 3)
        var trees = GBDTOptions()
        trees.trees = 10
        for algorithm in [TrainingAlgorithm.logistic(LogisticRegressionOptions()), .gbdt(trees)] {
            let one = try run(algorithm, threads: 1, folds: folds)
            let two = try run(algorithm, threads: 2, folds: folds)
            #expect(one.folds.count == 4)
            for (a, b) in zip(one.folds, two.folds) {
                #expect(a.metrics.auc.bitPattern == b.metrics.auc.bitPattern)
                #expect(a.metrics.logLoss.bitPattern == b.metrics.logLoss.bitPattern)
            }
            // Every row is held out exactly once.
            #expect(one.folds.reduce(0) { $0 + $1.metrics.rows } == Self.data.1.count)
            let auc = one.summary("auc")
            #expect(auc.mean > 0.7 && auc.sd >= 0 && auc.sd < 0.1)
        }
    }

    @Test func groupFoldsNeverSplitAGroupAndBalanceRows() {
        var rng = SplitMix64(seed: 8)
        let groups = (0..<5000).map { _ in Int32(rng.nextInt(below: 700)) }
        let fold = GroupFolds.folds(groups: groups, count: 5, seed: 1)
        var foldOfGroup: [Int32: Int] = [:]
        for (g, f) in zip(groups, fold) {
            #expect(foldOfGroup[g, default: f] == f, "group \(g) in two folds")
            foldOfGroup[g] = f
        }
        let sizes = (0..<5).map { k in fold.filter { $0 == k }.count }
        #expect(sizes.max()! - sizes.min()! <= 20, "\(sizes)")
        #expect(GroupFolds.folds(groups: groups, count: 5, seed: 1) == fold)
    }

    @Test func aFoldThatCannotBeFittedIsTheFoldsError() {
        let (table, labels) = Self.data
        // Every positive in fold 0: the other folds train on one class.
        let folds = labels.map { $0 == 1 ? 0 : 1 }
        let positives = labels.filter { $0 == 1 }.count
        #expect(throws: TrainingError.foldWithoutClass(fold: 1, folds: 2, positives: positives, rows: positives)) {
            try CrossValidation.run(
                table: table, labels: labels, weights: nil, folds: folds,
                settings: TrainingSettings(label: "y", algorithm: .logistic(LogisticRegressionOptions())), threads: 2,
                scheme: "stratified")
        }
    }
}
