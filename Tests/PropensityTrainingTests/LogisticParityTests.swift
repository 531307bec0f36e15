import Foundation
import PropensityData
import PropensityMetrics
import PropensityModel
import Testing

@testable import PropensityTraining

/// Coefficients must match scikit-learn on the same objective (fixtures from Tests/Fixtures/make_lr_fixtures.py).
@Suite struct LogisticParityTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            var file: String
            var label: String
            var l2: Double
            var class_weight: String
            var intercept: Double
            var coefficients: [String: Double]
        }
        var cases: [Case]
    }

    static let reference: Reference = {
        let data = FileManager.default.contents(atPath: TestData.fixture("lr_sklearn_reference.json"))!
        return try! JSONDecoder().decode(Reference.self, from: data)
    }()

    func fit(
        _ c: Reference.Case, solver: LogisticRegressionOptions.Solver = .auto, threads: Int = 1,
        warmStartRows: Int? = nil
    ) throws -> LogisticRegressionFit {
        let table = try CSVReader.read(
            file: TestData.fixture(c.file), options: CSVOptions(categorical: [c.label], required: [c.label]))
        let labels = try LabelReader.read(table, column: c.label, positive: nil)
        var options = LogisticRegressionOptions()
        options.l2 = c.l2
        options.classWeight = c.class_weight == "balanced" ? .balanced : .none
        options.solver = solver
        options.threads = threads
        options.tolerance = 1e-11
        options.warmStartRows = warmStartRows
        return try LogisticRegressionTrainer.fit(
            table: table, labels: labels.values, rows: Array(0..<table.rowCount), labelColumn: c.label, options: options)
    }

    func expectMatch(_ fit: LogisticRegressionFit, _ c: Reference.Case, relative: Double) {
        let (intercept, coefficients) = fit.model.originalScaleCoefficients()
        let ours = Dictionary(uniqueKeysWithValues: coefficients.map { ($0.name, $0.value) })
        #expect(Set(ours.keys) == Set(c.coefficients.keys))
        let floor = 1e-6 * (c.coefficients.values.map(abs).max() ?? 1)
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= relative * abs(b) + floor }
        #expect(close(intercept, c.intercept), "intercept \(intercept) vs \(c.intercept)")
        for (name, expected) in c.coefficients {
            #expect(close(ours[name] ?? .nan, expected), "\(name): \(ours[name] ?? .nan) vs scikit-learn \(expected)")
        }
    }

    @Test(arguments: 0..<4)
    func newtonMatchesScikitLearn(index: Int) throws {
        let c = Self.reference.cases[index]
        let result = try fit(c)
        #expect(result.report.converged)
        #expect(result.report.solver == "newton-cholesky")
        expectMatch(result, c, relative: 1e-4)
    }

    @Test(arguments: 0..<4)
    func lbfgsMatchesScikitLearn(index: Int) throws {
        let c = Self.reference.cases[index]
        let result = try fit(c, solver: .lbfgs)
        #expect(result.report.converged)
        expectMatch(result, c, relative: 1e-4)
    }

    @Test(arguments: 0..<4)
    func warmStartReachesTheSameOptimum(index: Int) throws {
        let c = Self.reference.cases[index]
        let warm = try fit(c, warmStartRows: 100)
        #expect(warm.report.converged)
        expectMatch(warm, c, relative: 1e-4)
    }

    @Test func resultDoesNotDependOnThreadCount() throws {
        let c = Self.reference.cases[2]
        let one = try fit(c, threads: 1)
        let two = try fit(c, threads: 2)
        #expect(one.model == two.model)
    }
}

@Suite struct LogisticTrainingTests {
    func table(_ text: String) throws -> (Table, [UInt8]) {
        let t = try CSVReader.parse(text, options: CSVOptions(categorical: ["y"]))
        return (t, try LabelReader.read(t, column: "y", positive: nil).values)
    }

    @Test func separableDataStopsWithoutCrashing() throws {
        var text = "x,y\n"
        for i in 0..<200 { text += "\(i),\(i < 100 ? 0 : 1)\n" }
        let (t, labels) = try table(text)
        var options = LogisticRegressionOptions()
        options.l2 = 0
        options.maxIterations = 50
        let fit = try? LogisticRegressionTrainer.fit(
            table: t, labels: labels, rows: Array(0..<200), labelColumn: "y", options: options)
        if let fit {
            #expect(!fit.report.converged)
            #expect(fit.report.stopReason != nil)
        }
        // With a penalty the same data has a unique finite optimum.
        options.l2 = 1
        let penalized = try LogisticRegressionTrainer.fit(
            table: t, labels: labels, rows: Array(0..<200), labelColumn: "y", options: options)
        #expect(penalized.report.converged)
    }

    @Test func collinearCategoriesWithoutPenaltyStillConverge() throws {
        // Full one-hot plus intercept is singular at λ = 0: the damped Newton step must cope.
        var text = "c,y\n"
        for i in 0..<300 { text += "\(["a", "b", "c"][i % 3]),\(i % 5 == 0 ? 1 : 0)\n" }
        let (t, labels) = try table(text)
        var options = LogisticRegressionOptions()
        options.l2 = 0
        let fit = try LogisticRegressionTrainer.fit(
            table: t, labels: labels, rows: Array(0..<300), labelColumn: "y", options: options)
        #expect(fit.report.converged)
        #expect(abs(fit.model.probability([0]) - 20.0 / 100) < 1e-6)
    }

    @Test func singleClassIsRefused() throws {
        let (t, labels) = try table("x,y\n1,1\n2,1\n")
        #expect(throws: TrainingError.self) {
            try LogisticRegressionTrainer.fit(
                table: t, labels: labels, rows: [0, 1], labelColumn: "y", options: LogisticRegressionOptions())
        }
    }

    @Test func constantAndAllMissingColumnsAreHarmless() throws {
        var text = "k,m,x,y\n"
        for i in 0..<100 { text += "5,,\(i % 7),\(i % 3 == 0 ? 1 : 0)\n" }
        let (t, labels) = try table(text)
        let fit = try LogisticRegressionTrainer.fit(
            table: t, labels: labels, rows: Array(0..<100), labelColumn: "y", options: LogisticRegressionOptions())
        #expect(fit.report.converged)
        #expect(fit.model.intercept.isFinite)
    }

    @Test func unseenCategoryScoresAsAllZeros() throws {
        let (t, labels) = try table("c,y\na,1\nb,0\na,0\nb,0\na,1\n")
        let fit = try LogisticRegressionTrainer.fit(
            table: t, labels: labels, rows: Array(0..<5), labelColumn: "y", options: LogisticRegressionOptions())
        let unseen = fit.model.probability([7])
        #expect(abs(unseen - Sigmoid.of(fit.model.intercept)) < 1e-12)
    }
}

/// The acceptance bar on real data: Online Shoppers, label Revenue, stratified 80/20 split.
@Suite struct RealDataTests {
    @Test func onlineShoppersHeldOutAUC() throws {
        let path = TestData.sharedDatasets + "/online_shoppers/online_shoppers_intention.csv"
        let table = try CSVReader.read(file: path, options: CSVOptions(categorical: ["Revenue"]))
        let labels = try LabelReader.read(table, column: "Revenue", positive: nil)
        #expect(labels.positive == "TRUE")
        let (train, validation) = StratifiedSplit.split(labels: labels.values, validationFraction: 0.2, seed: 42)
        let fit = try LogisticRegressionTrainer.fit(
            table: table, labels: labels.values, rows: train, labelColumn: "Revenue", options: LogisticRegressionOptions())
        #expect(fit.report.converged)
        let inputs = try table.inputRows(fit.model.schema.inputSpecs)
        let width = fit.model.schema.count
        let scores = validation.map { i in fit.model.probability((0..<width).map { Double(inputs[i * width + $0]) }) }
        let auc = RankMetrics.auc(scores: scores, labels: validation.map { labels.values[$0] })
        #expect(auc >= 0.88, "held-out AUC \(auc)")
    }
}
