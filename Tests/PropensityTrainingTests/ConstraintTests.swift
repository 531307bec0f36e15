import PropensityData
import PropensityModel
import Testing

@testable import PropensityTraining

/// Monotone and interaction constraints hold in every tree, whatever the data says.
@Suite struct ConstraintTests {
    static let data = try! GBDTTests.synthetic(rows: 3000, seed: 17)

    func fit(_ configure: (inout GBDTOptions) -> Void) throws -> TreeEnsembleModel {
        var options = GBDTOptions()
        options.trees = 30
        options.numLeaves = 15
        options.logEvery = 0
        configure(&options)
        let (table, labels) = Self.data
        return try GBDTTrainer.fit(
            table: table, labels: labels, trainRows: Array(0..<table.rowCount), validationRows: [], labelColumn: "y",
            options: options).model
    }

    func worstViolation(_ model: TreeEnsembleModel, column j: Int, direction: Double) throws -> Double {
        ConstraintChecks.worstViolation(
            model, inputs: try Self.data.0.inputRows(model.schema.inputSpecs), rows: Array(0..<500), column: j,
            range: -4...4, direction: direction)
    }

    /// Along a 100-point grid of each constrained column (missing values and the other columns as the row has them),
    /// the margin never moves against the constraint, for every one of 500 rows.
    @Test func monotoneColumnsMoveTheMarginOneWay() throws {
        // x raises the log-odds in the data; constrain it down (against the data) and the noise column up.
        let model = try fit { $0.monotone = [("x", -1), ("noise", 1)] }
        let free = try fit { _ in }
        for (name, direction) in [("x", -1.0), ("noise", 1.0)] {
            let j = model.schema.features.firstIndex { $0.name == name }!
            #expect(try worstViolation(model, column: j, direction: direction) <= 1e-12, "\(name)")
            // The test can fail: the unconstrained model moves the other way.
            #expect(try worstViolation(free, column: j, direction: direction) > 0.01, "\(name), free")
        }
    }

    @Test func noPathMixesInteractionGroups() throws {
        let groups: [Set<Int32>] = [[0, 3], [1, 2]]  // x, c, m, noise, k by column order
        func mixedPaths(_ model: TreeEnsembleModel) -> Int { ConstraintChecks.mixedPaths(model, groups: groups) }
        let model = try fit { $0.interactions = [["x", "noise"], ["c", "m"]] }
        #expect(mixedPaths(model) == 0)
        #expect(model.trees.reduce(0) { $0 + $1.nodes.count } > 100)
        #expect(mixedPaths(try fit { _ in }) > 0)  // the test can fail
    }

    @Test func badConstraintsAreRefusedByCase() {
        #expect(throws: TrainingError.constraintOnUnknownColumn("nope")) { try fit { $0.monotone = [("nope", 1)] } }
        #expect(throws: TrainingError.monotoneOnCategorical("c")) { try fit { $0.monotone = [("c", 1)] } }
        #expect(throws: TrainingError.monotoneDirection(column: "x", direction: 2)) { try fit { $0.monotone = [("x", 2)] } }
        #expect(throws: TrainingError.constraintOnUnknownColumn("z")) { try fit { $0.interactions = [["x", "z"]] } }
    }
}
