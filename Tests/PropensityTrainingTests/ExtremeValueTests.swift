import PropensityData
import PropensityModel
import PropensityScoring
import Testing

@testable import PropensityTraining

/// Training on extreme magnitudes either fits a usable model or ends with a typed error, in bounded time
/// (issue 11, finding 6: a sum of squares that overflowed once looped forever in the Newton solver).
@Suite struct ExtremeValueTests {
    /// `rows` rows `x,z,y`: `x` drawn from `values`, `z` a mild column, `y` random 0/1 (seeded).
    static func table(_ values: [Double], rows: Int = 300, seed: UInt64 = 6) throws -> (Table, BinaryLabels) {
        var rng = SplitMix64(seed: seed)
        var csv = "x,z,y\n"
        for i in 0..<rows {
            let x = values[Int(rng.next() % UInt64(values.count))]
            csv += "\(x),\(Double(i % 7) - 3),\(rng.next() % 2)\n"
        }
        let table = try CSVReader.parse(csv, source: "extreme.csv", options: CSVOptions(categorical: ["y"]))
        return (table, try LabelReader.read(table, column: "y", positive: nil))
    }

    static func settings(_ algorithm: TrainingAlgorithm) -> TrainingSettings {
        var settings = TrainingSettings(label: "y", algorithm: algorithm)
        settings.validationFraction = 0
        return settings
    }

    static var algorithms: [TrainingAlgorithm] {
        var newton = LogisticRegressionOptions()
        newton.solver = .newton
        newton.threads = 1
        var lbfgs = newton
        lbfgs.solver = .lbfgs
        var gbdt = GBDTOptions()
        gbdt.trees = 5
        gbdt.threads = 1
        gbdt.logEvery = 0
        return [.logistic(newton), .logistic(lbfgs), .gbdt(gbdt)]
    }

    /// The issue's file: a fifth of the values are 1e154, whose squares overflow a double.
    @Test func valuesBeyondTheScorableRangeAreRefused() throws {
        for algorithm in Self.algorithms {
            let (table, labels) = try Self.table([1, 2, 3, 1, 1e154])
            #expect {
                _ = try TrainingRun.run(table: table, labels: labels, settings: Self.settings(algorithm))
            } throws: { error in
                guard case TrainingError.valueOutOfRange(column: "x", line: let line) = error else { return false }
                return line >= 2
            }
        }
    }

    /// From 1e-300 to 3e38, mixed: every fit ends with a model whose scores are probabilities, or a typed error.
    @Test(arguments: [
        [1e-300, 2e-300, 5e-301], [1e-300, 1, 3e38], [-3e38, 3e38, 0], [1e30, 1e30 + 1e15, 1e30 - 1e15], [1e-30, -1e-30, 0],
    ])
    func extremeMagnitudesFitOrFailWithAReason(values: [Double]) throws {
        for algorithm in Self.algorithms {
            let (table, labels) = try Self.table(values)
            do {
                let result = try TrainingRun.run(table: table, labels: labels, settings: Self.settings(algorithm))
                let scorer = Scorer(model: result.model)
                for x in values {
                    let score = scorer.score([Float(x), 0])
                    #expect(score[0] >= 0 && score[0] <= 1, "\(algorithm.name) on \(values): \(score)")
                }
            } catch {
                switch error {
                case .nonFinite, .valueOutOfRange, .diverged: break
                default: Issue.record("\(algorithm.name) on \(values): unexpected \(error)")
                }
            }
        }
    }

    /// Unstandardized inputs whose Gram product overflows single precision: the Newton solver stops with
    /// `.nonFinite` instead of damping the Hessian forever.
    @Test func aNonFiniteHessianEndsTheSolver() {
        let rows = 40
        var x: [Double] = []
        var y: [UInt8] = []
        for i in 0..<rows {
            x += [1, i % 3 == 0 ? 1e25 : Double(i)]
            y.append(i % 3 == 0 ? 1 : UInt8(i % 2))
        }
        let objective = LogisticObjective(x: x, y: y, sampleWeights: nil, width: 2, l2: 1, threads: 1)
        let (_, report) = NewtonSolver.minimize(objective, from: [0, 0], tolerance: 1e-9, maxIterations: 50)
        #expect(!report.converged)
        if case .nonFinite = report.stop {} else { Issue.record("stopped with \(report.stop)") }
    }
}
