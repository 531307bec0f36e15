// In-process micro-benchmarks of Propensity's hot paths (ordo-one package-benchmark). Every input is generated
// from fixed seeds, so runs are comparable; thresholds flag regressions against the stored baseline.
import Benchmark
import NIOCore
import PropensityData
import PropensityInput
import PropensityModel
import PropensityProtocol
import PropensityScoring
import PropensityTraining

/// Realistic conversion data from the project's seeded generator, as CSV text and as a parsed table.
enum Inputs {
    static let label = ConversionDataGenerator.labelColumn
    /// As `propensity train` reads it: the label as text (its values are then mapped to 0/1).
    static let options = CSVOptions(categorical: [label])

    static func csv(rows: Int) -> String {
        var generator = ConversionDataGenerator(seed: 7)
        var text = ConversionDataGenerator.header.joined(separator: ",") + "\n"
        for _ in 0..<rows { text += generator.nextRow().fields.joined(separator: ",") + "\n" }
        return text
    }

    static func table(rows: Int) -> (Table, [UInt8]) {
        let table = try! CSVReader.parse(csv(rows: rows), options: options)
        var columns = table
        columns.columns.removeAll { $0.name == ConversionDataGenerator.truthColumn }
        return (columns, try! LabelReader.read(columns, column: label, positive: nil).values)
    }

    /// A 300-tree depth-6 forest, on the numeric columns only or with the generator's categorical ones (device,
    /// channel, …): the flat forest's all-numeric walk, or its walk with category bits.
    static func forest(trees: Int, categorical: Bool) -> (Model, [Float]) {
        var (table, labels) = table(rows: 20_000)
        if !categorical { table.columns.removeAll { $0.kind == .categorical && $0.name != label } }
        var options = GBDTOptions()
        options.trees = trees
        options.maxDepth = 6
        options.logEvery = 0
        let fit = try! GBDTTrainer.fit(
            table: table, labels: labels, trainRows: Array(0..<table.rowCount), validationRows: [], labelColumn: label,
            options: options)
        let model = Model(body: .treeEnsemble(fit.model), metadata: ModelMetadata())
        return (model, try! table.inputRows(model.schema.inputSpecs))
    }

    static func logistic() -> (Model, [Float]) {
        let (table, labels) = table(rows: 20_000)
        let fit = try! LogisticRegressionTrainer.fit(
            table: table, labels: labels, rows: Array(0..<table.rowCount), labelColumn: label,
            options: LogisticRegressionOptions())
        let model = Model(body: .logisticRegression(fit.model), metadata: ModelMetadata())
        return (model, try! table.inputRows(model.schema.inputSpecs))
    }
}

let benchmarks: @Sendable () -> Void = {
    // Time regressions beyond 10 % at the median (20 % at p90) fail `baseline check`; any new allocation on a path
    // that must not allocate fails too.
    let thresholds: [BenchmarkMetric: BenchmarkThresholds] = [
        .wallClock: .init(relative: [.p50: 10, .p90: 20]),
        .mallocCountTotal: .init(absolute: [.p50: 0, .p90: 0]),
    ]
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 10, maxDuration: .seconds(3),
        maxIterations: 1_000_000, thresholds: thresholds)

    // Scoring: one row through 300-tree depth-6 forests (the server's single-request path) — numeric splits only and
    // with categorical splits — and 64 rows at once (batch path). A single row may not allocate.
    for categorical in [false, true] {
        let (forest, forestRows) = Inputs.forest(trees: 300, categorical: categorical)
        let scorer = Scorer(model: forest)
        let width = scorer.featureCount
        let rowCount = forestRows.count / width
        let name = "score/forest-300" + (categorical ? "-categorical" : "")
        for rows in [1, 64] {
            Benchmark("\(name)/\(rows == 1 ? "1-row" : "\(rows)-rows")", configuration: .init(scalingFactor: .one)) {
                benchmark in
                var out = [Float](repeating: 0, count: rows)
                var start = 0
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    forestRows.withUnsafeBytes { input in
                        out.withUnsafeMutableBytes { output in
                            scorer.score(
                                rows: UnsafeRawBufferPointer(
                                    rebasing: input[(start * width * 4)..<((start + rows) * width * 4)]),
                                rowCount: rows, into: output)
                        }
                    }
                    start = (start + rows) % (rowCount - rows)
                }
                blackHole(out)
            }
        }
    }
    let (logistic, logisticRows) = Inputs.logistic()
    let logisticScorer = Scorer(model: logistic)
    let logisticWidth = logisticScorer.featureCount
    Benchmark("score/logistic/1-row", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var out = [Float](repeating: 0, count: 1)
        var r = 0
        let rows = logisticRows.count / logisticWidth
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            logisticRows.withUnsafeBytes { input in
                out.withUnsafeMutableBytes { output in
                    logisticScorer.score(
                        rows: UnsafeRawBufferPointer(
                            rebasing: input[(r * logisticWidth * 4)..<((r + 1) * logisticWidth * 4)]),
                        rowCount: 1, into: output)
                }
            }
            r = (r + 1) % rows
        }
        blackHole(out)
    }

    // Protocol: 64 pipelined single-row SCORE frames split off one receive buffer and decoded (the server's
    // per-request parsing; payloads are slices, so nothing is allocated per frame).
    let (frameModel, frameRows) = Inputs.forest(trees: 10, categorical: false)
    let width = frameModel.schema.count
    var stream = ByteBuffer()
    for id in 1...64 {
        let row = Array(frameRows[(id * width)..<((id + 1) * width)])
        RequestCodec.encode(
            .score(ScoreRequest(model: "conversion", fingerprint: 42, rowCount: 1, featureCount: width, features: row)),
            requestID: UInt32(id), into: &stream)
    }
    let received = stream
    Benchmark("protocol/decode-64-frames") { benchmark in
        for _ in benchmark.scaledIterations {
            var buffer = received
            var frames = 0
            while let frame = try? FrameSplitter.next(from: &buffer, maxFrameBytes: 1 << 20) {
                blackHole(try? RequestCodec.decode(frame))
                frames += 1
            }
            precondition(frames == 64)
        }
    }

    // Data and training: parsing 20,000 CSV rows; fitting 20 trees and a logistic model on them (1 thread, so the
    // figure does not depend on the machine's core count). These allocate by design: only time is checked.
    let text = Inputs.csv(rows: 20_000)
    let timeOnly = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .peakMemoryResident], scalingFactor: .one, maxDuration: .seconds(5),
        maxIterations: 20, thresholds: [.wallClock: .init(relative: [.p50: 10, .p90: 20])])
    Benchmark("data/parse-csv-20k", configuration: timeOnly) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try? CSVReader.parse(text, options: Inputs.options)) }
    }
    let (table, labels) = Inputs.table(rows: 20_000)
    Benchmark("train/gbdt-20k-20-trees", configuration: timeOnly) { benchmark in
        var options = GBDTOptions()
        options.trees = 20
        options.maxDepth = 6
        options.logEvery = 0
        options.threads = 1
        for _ in benchmark.scaledIterations {
            blackHole(try? GBDTTrainer.fit(
                table: table, labels: labels, trainRows: Array(0..<table.rowCount), validationRows: [],
                labelColumn: Inputs.label, options: options))
        }
    }
    Benchmark("train/logistic-20k", configuration: timeOnly) { benchmark in
        var options = LogisticRegressionOptions()
        options.threads = 1
        for _ in benchmark.scaledIterations {
            blackHole(try? LogisticRegressionTrainer.fit(
                table: table, labels: labels, rows: Array(0..<table.rowCount), labelColumn: Inputs.label,
                options: options))
        }
    }
}
