import Foundation
import PropensityData
import PropensityMetrics

extension GBDTTrainer {
    /// The boosting loop, generic over the bin width so every hot loop reads typed bins.
    static func boost<Bin: FixedWidthInteger & UnsignedInteger>(
        _: Bin.Type, train: BinnedData, validation: BinnedData?, y labels: [UInt8], trainRows: [Int],
        validationRows: [Int], weights: [Double]?, options: GBDTOptions,
        constraints: (monotone: [Int8], groups: [Set<Int>]) = ([], []), progress: (GBDTProgress) -> Void
    ) -> (trees: [BinTree], base: Double, stoppedEarly: Bool, bestLoss: Double?, margins: [Double], validationMargins: [Double]) {
        let booster = Booster<Bin>(
            train: train, validation: validation, labels: labels, trainRows: trainRows, validationRows: validationRows,
            weights: weights, options: options, constraints: constraints)
        var best = (iteration: -1, loss: Double.infinity)
        var stoppedEarly = false
        for iteration in 0..<options.trees {
            booster.addTree()
            var validationLoss: Double? = nil
            if validation != nil && (options.earlyStoppingRounds != nil || shouldLog(iteration, options)) {
                validationLoss = booster.validationLogLoss
            }
            if shouldLog(iteration, options) {
                progress(GBDTProgress(
                    iteration: iteration + 1, plannedTrees: options.trees, hasMetrics: true,
                    trainLogLoss: booster.trainLogLoss, trainAUC: booster.trainAUC,
                    validationLogLoss: validationLoss, validationAUC: validation == nil ? nil : booster.validationAUC()))
            } else {
                progress(GBDTProgress(
                    iteration: iteration + 1, plannedTrees: options.trees, hasMetrics: false, trainLogLoss: .nan,
                    trainAUC: .nan, validationLogLoss: nil, validationAUC: nil))
            }
            if let rounds = options.earlyStoppingRounds, let loss = validationLoss {
                if loss < best.loss {
                    best = (iteration, loss)
                } else if iteration - best.iteration >= rounds {
                    stoppedEarly = true
                    break
                }
            }
        }
        if stoppedEarly { booster.truncate(to: best.iteration + 1) }
        return (
            booster.trees, booster.base, stoppedEarly, best.iteration >= 0 ? best.loss : nil, booster.margins,
            booster.validationMargins
        )
    }

    static func shouldLog(_ iteration: Int, _ options: GBDTOptions) -> Bool {
        options.logEvery > 0 && ((iteration + 1) % options.logEvery == 0 || iteration + 1 == options.trees)
    }

    /// Mean log-loss of margins, weighted when `weights` are given.
    static func logLoss(_ margins: [Double], _ y: [UInt8], _ weights: [Double]? = nil) -> Double {
        var total = 0.0, weight = 0.0
        for (i, (z, label)) in zip(margins, y).enumerated() {
            let w = weights?[i] ?? 1
            // log(1 + e^z) − y z, stable for large |z|.
            total += w * (max(z, 0) + log1p(exp(-abs(z))) - Double(label) * z)
            weight += w
        }
        return weight > 0 ? total / weight : .nan
    }
}
