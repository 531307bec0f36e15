import PropensityData
import PropensityMetrics
import PropensityModel
import Testing

@testable import PropensityTraining

/// `train --weight`: what weights mean for each trainer, checked by identities that hold exactly.
@Suite struct SampleWeightTests {
    static let data = try! GBDTTests.synthetic(rows: 1500, seed: 9)

    func gbdt(_ weights: [Double]?, rows: [Int], numericOnly: Bool = false) throws -> GBDTFit {
        var options = GBDTOptions()
        options.trees = 15
        options.logEvery = 0
        var (table, labels) = Self.data
        if numericOnly { table.columns.removeAll { $0.name == "c" } }
        return try GBDTTrainer.fit(
            table: table, labels: labels, trainRows: rows, validationRows: [], labelColumn: "y", options: options,
            rowWeights: weights)
    }

    /// Doubling every weight doubles every gradient and hessian sum: gains double, leaf values and splits do not
    /// change (no L2, bits exact since ×2 is exact); the covers (hessian sums) double. Numeric splits only: the
    /// categorical splits' fixed extra L2 (LightGBM's cat_l2) is not scaled with the weights, in LightGBM either.
    @Test func boostingIgnoresAUniformScaleOfTheWeights() throws {
        let rows = Array(0..<Self.data.0.rowCount)
        let plain = try gbdt(nil, rows: rows, numericOnly: true)
        let doubled = try gbdt([Double](repeating: 2, count: rows.count), rows: rows, numericOnly: true)
        #expect(plain.model.baseScore == doubled.model.baseScore)
        for (a, b) in zip(plain.model.trees, doubled.model.trees) {
            #expect(a.nodes == b.nodes && a.leafValues == b.leafValues && a.covers.map { 2 * $0 } == b.covers)
        }
    }

    @Test func rowsOfWeightZeroAreLeftOut() throws {
        let all = Array(0..<Self.data.0.rowCount)
        let weights = all.map { $0 % 3 == 0 ? 0.0 : 1.0 }
        let weighted = try gbdt(weights, rows: all)
        let dropped = try gbdt(nil, rows: all.filter { $0 % 3 != 0 })
        #expect(weighted.model.trees == dropped.model.trees)

        var options = LogisticRegressionOptions()
        options.l2 = 1
        let (table, labels) = Self.data
        let lrWeighted = try LogisticRegressionTrainer.fit(
            table: table, labels: labels, rows: all, labelColumn: "y", options: options, rowWeights: weights)
        let lrDropped = try LogisticRegressionTrainer.fit(
            table: table, labels: labels, rows: all.filter { $0 % 3 != 0 }, labelColumn: "y", options: options)
        #expect(lrWeighted.model == lrDropped.model)
    }

    /// A weight of k counts a row k times in every metric.
    @Test func weightedMetricsEqualRepeatedRows() {
        var rng = SplitMix64(seed: 4)
        let n = 400
        let scores = (0..<n).map { _ in (Double(rng.nextInt(below: 50)) + 0.5) / 50 }  // ties on purpose
        let labels = scores.map { rng.nextUnit() < $0 ? UInt8(1) : 0 }
        let weights = (0..<n).map { _ in Double(rng.nextInt(below: 4)) }
        var repeatedScores: [Double] = [], repeatedLabels: [UInt8] = []
        for i in 0..<n {
            for _ in 0..<Int(weights[i]) { repeatedScores.append(scores[i]); repeatedLabels.append(labels[i]) }
        }
        let weighted = BinaryMetrics(scores: scores, labels: labels, weights: weights)
        let repeated = BinaryMetrics(scores: repeatedScores, labels: repeatedLabels)
        #expect(weighted.weighted && !repeated.weighted)
        #expect(abs(weighted.auc - repeated.auc) < 1e-12)
        #expect(abs(weighted.logLoss - repeated.logLoss) < 1e-12)
        #expect(abs(weighted.brier - repeated.brier) < 1e-12)
        #expect(abs(weighted.positiveRate - repeated.positiveRate) < 1e-12)
        #expect(weighted.totalWeight == Double(repeatedScores.count))
    }

    @Test func badWeightColumnsNameTheLineAndColumn() throws {
        func error(_ text: String) -> CSVError? {
            do {
                let table = try CSVReader.parse(text, options: CSVOptions(categorical: ["y"]))
                _ = try WeightReader.read(table, column: "w")
                return nil
            } catch {
                return error
            }
        }
        #expect(error("x,w,y\n1,2,0\n2,,1\n")?.line == 3)
        #expect(error("x,w,y\n1,2,0\n2,,1\n")?.message == "weight is missing")
        #expect(error("x,w,y\n1,2,0\n2,-1,1\n")?.message.contains("≥ 0") == true)
        #expect(error("x,w,y\n1,2,0\n2,-1,1\n")?.line == 3)
        #expect(error("x,w,y\n1,heavy,0\n")?.message == "a weight must be a number")
        #expect(error("x,w,y\n1,0,0\n2,0,1\n")?.message == "every weight is 0")
        #expect(error("x,v,y\n1,0,0\n")?.message == "no weight column named 'w'")
        #expect(error("x,w,y\n1,0.5,0\n2,3,1\n") == nil)
    }
}
