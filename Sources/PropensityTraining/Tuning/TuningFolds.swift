import PropensityData

/// A search's cross-validation folds, binned once: `max_bin` is not searched, so every trial boosts on the same
/// bins and pays for boosting only. Each fold's bins come from its own training rows, as a fit on those rows alone
/// would make them.
final class TuningFolds: @unchecked Sendable {
    struct Fold {
        let train: BinnedData
        let heldOut: BinnedData
        let trainRows: [Int]
        let heldOutRows: [Int]
    }

    let folds: [Fold]
    let labels: [UInt8]
    let weights: [Double]?
    let constraints: (monotone: [Int8], groups: [Set<Int>])

    /// - Parameters:
    ///   - assignment: the fold of every row (0 ..< K); rows of weight 0 are left out of training, as `cv` does.
    ///   - base: `maxBin` and the constraints; binning runs on `threads` threads.
    init(
        table: Table, labels: [UInt8], weights: [Double]?, assignment: [Int], labelColumn: String, base: GBDTOptions,
        threads: Int
    ) throws(TrainingError) {
        let columns = table.columns.filter { $0.name != labelColumn }
        guard !columns.isEmpty else { throw TrainingError.noInputColumns }
        constraints = try GBDTTrainer.constraints(base, columns: columns)
        var binning = base
        binning.threads = threads
        let count = (assignment.max() ?? 0) + 1
        folds = (0..<count).map { k in
            let inside = labels.indices.filter { assignment[$0] != k && (weights?[$0] ?? 1) > 0 }
            let outside = labels.indices.filter { assignment[$0] == k }
            let binned = GBDTTrainer.bin(columns: columns, trainRows: inside, otherRows: [outside], options: binning)
            return Fold(train: binned.train, heldOut: binned.others[0], trainRows: inside, heldOutRows: outside)
        }
        self.labels = labels
        self.weights = weights
    }

    /// What one trial's boosting found.
    struct Run {
        /// The folds' mean held-out AUC at the best tree count, and each fold's AUC there.
        var meanAUC: Double
        var foldAUCs: [Double]
        /// The tree count with the best mean AUC (what a refit uses).
        var trees: Int
        var grown: Int
        var pruned: Bool
    }

    private func booster(for fold: Fold, options: GBDTOptions) -> FoldBooster {
        if fold.train.wide {
            return .wide(Booster<UInt16>(
                train: fold.train, validation: fold.heldOut, labels: labels, trainRows: fold.trainRows,
                validationRows: fold.heldOutRows, weights: weights, options: options, constraints: constraints))
        }
        return .narrow(Booster<UInt8>(
            train: fold.train, validation: fold.heldOut, labels: labels, trainRows: fold.trainRows,
            validationRows: fold.heldOutRows, weights: weights, options: options, constraints: constraints))
    }

    /// Boosts every fold in lockstep, tracking the mean held-out AUC over the folds after every tree as
    /// `lightgbm.cv` does: it stops `patience` trees after the mean last improved, at `maxTrees`, or when
    /// `prune(trees, best)` says the trial is not worth finishing. Folds run in parallel, each tree on one thread, a
    /// fold at most a few trees ahead of the others (`FoldSchedule`); each fold's trees do not depend on the
    /// schedule, so the result is the same at any thread count.
    func evaluate(
        _ options: GBDTOptions, maxTrees: Int, patience: Int, threads: Int, prune: @escaping (Int, Double) -> Bool
    ) -> Run {
        var single = options
        single.threads = 1
        single.logEvery = 0
        let boosters = folds.map { booster(for: $0, options: single) }
        nonisolated(unsafe) var best = Run(meanAUC: -.infinity, foldAUCs: [], trees: 0, grown: 0, pruned: false)
        // Called in tree order under the schedule's lock, so `best` has one writer at a time.
        let schedule = FoldSchedule(folds: boosters.count, maxTrees: maxTrees) { t, values in
            let mean = values.reduce(0, +) / Double(values.count)
            best.grown = t
            if mean > best.meanAUC {
                (best.meanAUC, best.foldAUCs, best.trees) = (mean, values, t)
            } else if t - best.trees >= patience {
                return true
            }
            if prune(t, best.meanAUC) {
                best.pruned = true
                return true
            }
            return false
        }
        ParallelFor.run(count: min(threads, boosters.count), threads: threads) { _ in
            while let k = schedule.next() {
                boosters[k].addTree()
                schedule.finished(k, auc: boosters[k].validationAUC())
            }
        }
        return best
    }
}

/// A booster of either bin width, driven one tree at a time. An enum rather than a protocol existential: calls
/// through a generic class's protocol witness reach the unspecialised generic code (bin loads through witness
/// tables), which made every tuning tree about five times slower than the trainer's.
enum FoldBooster: Sendable {
    case narrow(Booster<UInt8>)
    case wide(Booster<UInt16>)

    func addTree() {
        switch self {
        case .narrow(let booster): booster.addTree()
        case .wide(let booster): booster.addTree()
        }
    }

    func validationAUC() -> Double {
        switch self {
        case .narrow(let booster): booster.validationAUC()
        case .wide(let booster): booster.validationAUC()
        }
    }
}
