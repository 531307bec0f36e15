import Foundation
import PropensityData
import PropensityMetrics
import PropensityModel

/// Histogram gradient boosting for binary log-loss (docs/gbdt.md).
public enum GBDTTrainer {
    /// Bins the columns on the training rows, then boosts `options.trees` trees (fewer with early stopping).
    /// - Parameters:
    ///   - table: the data; every column but `labelColumn` is an input.
    ///   - labels: 0/1 per row of `table`.
    ///   - trainRows, validationRows: row indices of each split (validation may be empty).
    ///   - options: growth, regularization, sampling and threads; checked before any work.
    ///   - progress: called after every tree; every `options.logEvery` trees with train (and validation) metrics.
    /// - Throws: `TrainingError` for a parameter out of range, early stopping without validation rows, no rows, one
    ///   class only, or no input columns.
    public static func fit(
        table: Table, labels: [UInt8], trainRows: [Int], validationRows: [Int], labelColumn: String,
        options: GBDTOptions, rowWeights: [Double]? = nil, progress: (GBDTProgress) -> Void = { _ in }
    ) throws(TrainingError) -> GBDTFit {
        let input = try prepare(
            table: table, labels: labels, trainRows: trainRows, validationRows: validationRows,
            labelColumn: labelColumn, options: options, rowWeights: rowWeights)
        return boost(input, progress: progress)
    }

    /// `fit`'s first half: checks, then the columns binned. The result holds no reference to `table`, so a caller
    /// that releases the table's columns before `boost` trains on the bins alone (a fifth of float32 columns).
    public static func prepare(
        table: Table, labels: [UInt8], trainRows: [Int], validationRows: [Int], labelColumn: String,
        options: GBDTOptions, rowWeights: [Double]? = nil
    ) throws(TrainingError) -> GBDTInput {
        try options.validate()
        // Rows of weight 0 are left out of training (their gradients would be 0 but they would count towards
        // min_samples_leaf); validation rows keep their weight in the early-stopping loss.
        let trainRows = rowWeights.map { w in trainRows.filter { w[$0] > 0 } } ?? trainRows
        if options.earlyStoppingRounds != nil && validationRows.isEmpty {
            throw TrainingError.earlyStoppingNeedsValidation
        }
        let positives = trainRows.reduce(0) { $0 + Int(labels[$1]) }
        guard !trainRows.isEmpty else { throw TrainingError.noTrainingRows }
        if let levels = options.gradientBins, QuantizedGradients.Layout.choose(levels: levels, rows: trainRows.count) == nil {
            throw TrainingError.invalidParameter(
                .gradientBins, requirement: "fewer for \(trainRows.count) training rows (levels × rows must stay below 2^32)")
        }
        guard positives > 0, positives < trainRows.count else {
            throw TrainingError.singleClass(positives: positives, rows: trainRows.count)
        }
        let columns = table.columns.filter { $0.name != labelColumn }
        guard !columns.isEmpty else { throw TrainingError.noInputColumns }
        let constraints = try Self.constraints(options, columns: columns)

        let binStart = DispatchTime.now().uptimeNanoseconds
        let binned = bin(columns: columns, trainRows: trainRows, otherRows: validationRows.isEmpty ? [] : [validationRows], options: options)
        return GBDTInput(
            binned: binned, labels: labels, trainRows: trainRows, validationRows: validationRows, weights: rowWeights,
            options: options, constraints: constraints,
            binningSeconds: Double(DispatchTime.now().uptimeNanoseconds - binStart) / 1e9)
    }

    /// `fit`'s second half: boosts `options.trees` trees (fewer with early stopping) on prepared bins.
    public static func boost(_ input: GBDTInput, progress: (GBDTProgress) -> Void = { _ in }) -> GBDTFit {
        let train = input.binned.train
        let validation = input.validationRows.isEmpty ? nil : input.binned.others[0]
        let boostStart = DispatchTime.now().uptimeNanoseconds
        let run = train.wide
            ? boost(UInt16.self, train: train, validation: validation, y: input.labels, trainRows: input.trainRows,
                    validationRows: input.validationRows, weights: input.weights, options: input.options,
                    constraints: input.constraints, progress: progress)
            : boost(UInt8.self, train: train, validation: validation, y: input.labels, trainRows: input.trainRows,
                    validationRows: input.validationRows, weights: input.weights, options: input.options,
                    constraints: input.constraints, progress: progress)
        let trees = run.trees
        let boostingSeconds = Double(DispatchTime.now().uptimeNanoseconds - boostStart) / 1e9

        let model = TreeEnsembleModel(
            schema: input.schema, baseScore: run.base, trees: trees.map { convert($0, mappers: input.binned.mappers) },
            importance: importance(trees, features: input.binned.mappers.count))
        return GBDTFit(
            model: model, treeCount: trees.count, stoppedEarly: run.stoppedEarly,
            bestValidationLogLoss: run.bestLoss, notes: input.binned.notes,
            binningSeconds: input.binningSeconds, boostingSeconds: boostingSeconds, trainMargins: run.margins,
            validationMargins: run.validationMargins)
    }
}

extension GBDTTrainer {
    /// Columns binned for boosting: mappers from the training rows (at most `options.maxBin` bins each), then the
    /// training rows and each of `otherRows` as bin indices.
    struct Binned: Sendable {
        var mappers: [BinMapper]
        var schema: FeatureSchema
        var notes: [TrainingNote]
        var train: BinnedData
        var others: [BinnedData]
    }

    static func bin(columns: [Column], trainRows: [Int], otherRows: [[Int]], options: GBDTOptions) -> Binned {
        let mapperSlots = ChunkResults<BinMapper>(count: columns.count)
        ParallelFor.run(count: columns.count, threads: options.threads) { c in
            let column = columns[c]
            mapperSlots.set(c, column.kind == .numeric
                ? BinMapper.numeric(column.numbers, rows: trainRows, maxBin: options.maxBin, sampleSize: 200_000)
                : BinMapper.categorical(column, rows: trainRows, maxBin: options.maxBin))
        }
        let mappers = mapperSlots.values()
        var notes: [TrainingNote] = []
        for (column, mapper) in zip(columns, mappers) where mapper.droppedCategories > 0 {
            notes.append(.categoriesCapped(column: column.name, maxBin: options.maxBin, dropped: mapper.droppedCategories))
        }
        let schema = FeatureSchema(features: zip(columns, mappers).map { column, mapper in
            switch mapper.kind {
            case .numeric: .numeric(column.name)
            case .categorical(let categories, _): .categorical(column.name, categories)
            }
        })
        return Binned(
            mappers: mappers, schema: schema, notes: notes,
            train: BinnedData(columns: columns, rows: trainRows, mappers: mappers, threads: options.threads),
            others: otherRows.map { BinnedData(columns: columns, rows: $0, mappers: mappers, threads: options.threads) })
    }

    /// The options' constraints by feature index: a direction per feature (empty: none) and the groups.
    static func constraints(_ options: GBDTOptions, columns: [Column]) throws(TrainingError)
        -> (monotone: [Int8], groups: [Set<Int>])
    {
        func index(_ name: String) throws(TrainingError) -> Int {
            guard let i = columns.firstIndex(where: { $0.name == name }) else { throw .constraintOnUnknownColumn(name) }
            return i
        }
        var monotone: [Int8] = options.monotone.isEmpty ? [] : Array(repeating: 0, count: columns.count)
        for (name, direction) in options.monotone {
            let i = try index(name)
            guard columns[i].kind == .numeric else { throw .monotoneOnCategorical(name) }
            guard direction == 1 || direction == -1 else { throw .monotoneDirection(column: name, direction: direction) }
            monotone[i] = direction
        }
        var groups: [Set<Int>] = []
        for group in options.interactions {
            var members = Set<Int>()
            for name in group { members.insert(try index(name)) }
            groups.append(members)
        }
        return (monotone, groups)
    }
}
