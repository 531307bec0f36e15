import Testing

@testable import PropensityData

@Suite struct TableRowsTests {
    @Test func pickedRowsKeepTheirValuesLinesAndCategoryCodes() throws {
        let t = try CSVReader.parse("a,b\n1,x\n,y\n3,z\n4,\n")
        let picked = t.rows([3, 0, 1])
        #expect(picked.rowCount == 3 && picked.rowLines == [5, 2, 3])
        #expect(picked.columns[0].numbers[0] == 4 && picked.columns[0].numbers[1] == 1 && picked.columns[0].numbers[2].isNaN)
        #expect(picked.columns[1].categories == ["x", "y", "z"] && picked.columns[1].codes == [-1, 0, 1])
        #expect(picked.columns[0].firstMissingLine == 3 && picked.columns[1].firstMissingLine == 5)
        #expect(t.rows([0, 2]).columns.allSatisfy { $0.firstMissingLine == nil })
    }
}
