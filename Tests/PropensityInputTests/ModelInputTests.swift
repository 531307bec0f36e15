import Foundation
import PropensityData
import PropensityModel
import Testing

@testable import PropensityInput

@Suite struct ModelInputTests {
    let schema = FeatureSchema(features: [.numeric("age"), .categorical("device", ["mobile", "desktop"])])

    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("input-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Columns are found by name whatever their order; categories become the model's indices (unseen: −1, missing:
    /// NaN); other columns are ignored unless asked for.
    @Test func rowsFollowTheSchemaNotTheFile() throws {
        let path = try write("device,extra,age\ndesktop,x,30\ntablet,y,\n,z,41.5\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (table, features) = try ModelInput.read(file: path, schema: schema, extraColumns: ["extra"])
        #expect(table.rowCount == 3)
        #expect(table.column(named: "extra") != nil)
        #expect(features[0] == 30 && features[1] == 1)
        #expect(features[2].isNaN && features[3] == -1)
        #expect(features[4] == 41.5 && features[5].isNaN)
    }

    @Test func aMissingColumnIsNamed() throws {
        let path = try write("device\nmobile\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: CSVError.self) { try ModelInput.read(file: path, schema: schema) }
        #expect(error?.description.contains("age") == true)
    }

    /// Issue 11, finding 10: `predict` refuses what the server refuses. A value beyond float32 would reach the scorer
    /// as ±inf; `inf` itself is not a number to the CSV reader, and the schema makes the column numeric.
    @Test func valuesBeyondFloat32AreRefusedWithTheirLine() throws {
        for value in ["1e39", "-4e38", "inf"] {
            let path = try write("age,device\n30,mobile\n\(value),desktop\n")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = #expect(throws: CSVError.self) { try ModelInput.read(file: path, schema: schema) }
            #expect(error?.line == 3 && error?.column == "age", "\(value): \(String(describing: error))")
        }
    }

    @Test func theSchemaForcesColumnKinds() {
        let options = schema.csvOptions(delimiter: UInt8(ascii: ";"), extraColumns: ["label"])
        #expect(options.numeric == ["age"])
        #expect(options.categorical == ["device", "label"])
        #expect(options.required == ["age", "device", "label"])
    }
}
