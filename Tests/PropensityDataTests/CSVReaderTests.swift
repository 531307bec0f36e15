import Testing

@testable import PropensityData

@Suite struct CSVReaderTests {
    @Test func detectsCommaAndReadsKinds() throws {
        let t = try CSVReader.parse("a,b,c\n1,x,2.5\n2,y,\n3,x,-1e2\n")
        #expect(t.rowCount == 3)
        #expect(t.columns.map(\.name) == ["a", "b", "c"])
        #expect(t.columns[0].kind == .numeric)
        #expect(t.columns[1].kind == .categorical)
        #expect(t.columns[1].categories == ["x", "y"])
        #expect(t.columns[1].codes == [0, 1, 0])
        #expect(t.columns[2].numbers[0] == 2.5)
        #expect(t.columns[2].numbers[1].isNaN)
        #expect(t.columns[2].numbers[2] == -100)
    }

    /// Numbers are kept as float32, each rounded once from the parsed double (as every scoring path rounds an
    /// input); a finite number beyond float32's range becomes ±inf, for its consumer to refuse with the line.
    @Test func numbersAreKeptAtFloat32RoundedOnceFromTheDouble() throws {
        let t = try CSVReader.parse("x\n0.1\n16777217\n1e39\n-1e39\n1e-50\n3.4028235e38\n")
        let x = t.columns[0].numbers
        #expect(x[0] == Float(0.1 as Double) && x[1] == 16_777_216)
        #expect(x[2] == .infinity && x[3] == -.infinity)
        #expect(x[4] == 0 && x[5] == .greatestFiniteMagnitude)
        do {
            _ = try t.inputRows([.init(name: "x", categories: nil)])
            Issue.record("a value beyond float32's range was accepted as an input")
        } catch {
            #expect(error.line == 4 && error.column == "x")
        }
    }

    @Test func detectsSemicolonAndUnquotes() throws {
        let t = try CSVReader.parse("\"age\";\"job\";\"y\"\r\n56;\"house;maid\";\"no\"\r\n57;\"say \"\"hi\"\"\";\"yes\"\r\n")
        #expect(t.columns.map(\.name) == ["age", "job", "y"])
        #expect(t.columns[0].numbers == [56, 57])
        #expect(t.columns[1].categories == ["house;maid", "say \"hi\""])
        #expect(t.columns[2].categories == ["no", "yes"])
    }

    @Test func quotedFieldMaySpanLinesAndLinesAreCounted() throws {
        let t = try CSVReader.parse("a,b\n1,\"two\nlines\"\n3,x\n")
        #expect(t.rowCount == 2)
        #expect(t.columns[1].categories == ["two\nlines", "x"])
        #expect(t.rowLines == [2, 4])
        let error = #expect(throws: CSVError.self) { try CSVReader.parse("a,b\n1,\"two\nlines\"\n3,x,9\n") }
        #expect(error?.line == 4)
    }

    @Test func missingSpellingsAreMissing() throws {
        let t = try CSVReader.parse("v,c\n1,a\nNA,NA\nNaN,null\n?,?\n,\nnull,b\n 4 ,b\n")
        let v = t.columns[0]
        #expect(v.kind == .numeric)
        #expect(v.numbers.filter(\.isNaN).count == 5)
        #expect(v.numbers.last == 4)
        #expect(t.columns[1].codes == [0, -1, -1, -1, -1, 1, 1])
        #expect(v.firstMissingLine == 3)
    }

    @Test func columnSwitchesToCategoricalLateAndKeepsEarlyValues() throws {
        let t = try CSVReader.parse("id,v\n1,10\n2,abc\n3,def\n4,10\n")
        let v = t.columns[1]
        #expect(v.kind == .categorical)
        #expect(v.categories == ["10", "abc", "def"])
        #expect(v.codes == [0, 1, 2, 0])
        #expect(v.categoryFirstLine == [2, 3, 4])
    }

    // Issue 11, finding 14: one damaged value no longer turns a numeric column into ~200 categories silently.
    @Test func aFewNonNumbersInANumericColumnAreRefused() throws {
        for damaged in ["2\"37", "inf", "nan1"] {
            let text = "id,v\n" + (1...50).map { "\($0),\($0 * 3)\n" }.joined() + "51,\(damaged)\n52,7\n"
            let e = #expect(throws: CSVError.self) { try CSVReader.parse(text, source: "d.csv") }
            #expect(e?.line == 52 && e?.column == "v" && e?.setting == .categorical, "\(String(describing: e))")
            // Named categorical, the column is read as categories.
            let t = try CSVReader.parse(text, source: "d.csv", options: CSVOptions(categorical: ["v"]))
            #expect(t.columns[1].kind == .categorical && t.columns[1].categories.count == 52)
        }
    }

    @Test func invalidUTF8AndNULBytesAreRefusedWithLineAndColumn() throws {
        let bad = Array("a,b\n1,ok\n2,".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        let e = #expect(throws: CSVError.self) { try CSVReader.parse(bad, source: "u.csv", options: CSVOptions()) }
        #expect(e?.line == 3 && e?.column == "b" && e?.message.contains("UTF-8") == true)
        let nul = Array("a,b\n1,x".utf8) + [0] + Array("y\n".utf8)
        let n = #expect(throws: CSVError.self) { try CSVReader.parse(nul, source: "n.csv", options: CSVOptions()) }
        #expect(n?.line == 2 && n?.column == "b" && n?.message.contains("NUL") == true)
        let header = Array("a,".utf8) + [0xFF] + Array("\n1,2\n".utf8)
        let h = #expect(throws: CSVError.self) { try CSVReader.parse(header, source: "h.csv", options: CSVOptions()) }
        #expect(h?.line == 1 && h?.message.contains("header field 2") == true)
    }

    @Test func aMissingColumnIsNamedWithoutRepeatingTheHeader() throws {
        let header = (0..<5000).map { "column_with_a_long_name_\($0)" }.joined(separator: ",")
        let text = header + "\n" + (0..<5000).map { _ in "1" }.joined(separator: ",") + "\n"
        let e = #expect(throws: CSVError.self) {
            try CSVReader.parse(text, source: "w.csv", options: CSVOptions(required: ["nope"]))
        }
        #expect(e?.message == "no column named 'nope' among the header's 5000 columns")
        let d = #expect(throws: CSVError.self) {
            try CSVReader.parse(text, source: "w.csv", options: CSVOptions(drop: ["nope"]))
        }
        #expect((d?.description.count ?? .max) < 200)
    }

    @Test func overridesDropsAndDelimiter() throws {
        let text = "a|b|leak\n1|2|9\n3|4|9\n"
        let t = try CSVReader.parse(
            text, options: CSVOptions(delimiter: UInt8(ascii: "|"), drop: ["leak"], categorical: ["b"]))
        #expect(t.columns.map(\.name) == ["a", "b"])
        #expect(t.columns[1].kind == .categorical)
        #expect(t.columns[1].categories == ["2", "4"])
    }

    @Test func byteOrderMarkAndNoTrailingNewline() throws {
        let t = try CSVReader.parse([0xEF, 0xBB, 0xBF] + Array("x,y\n1,2".utf8), source: "bom.csv", options: CSVOptions())
        #expect(t.columns.map(\.name) == ["x", "y"])
        #expect(t.columns[1].numbers == [2])
    }

    @Test func rejectsInfinityAndHexAsNumbers() throws {
        let t = try CSVReader.parse("a\ninf\n0x10\n")
        #expect(t.columns[0].kind == .categorical)
    }

    // MARK: Errors name the file, line and column.

    @Test func wrongFieldCount() {
        let e = #expect(throws: CSVError.self) { try CSVReader.parse("a,b\n1,2\n3\n", source: "f.csv") }
        #expect(e?.description == "f.csv:3: expected 2 fields (as in the header), found 1")
    }

    @Test func unparseableNumberInNumericColumn() {
        let e = #expect(throws: CSVError.self) {
            try CSVReader.parse("a,b\n1,2\n3,x\n", source: "f.csv", options: CSVOptions(numeric: ["b"]))
        }
        #expect(e?.line == 3)
        #expect(e?.column == "b")
        #expect(e?.description.contains("not a number") == true)
    }

    @Test func emptyFileAndHeaderOnly() {
        #expect(throws: CSVError(file: "e.csv", message: "empty file (no header row)")) {
            try CSVReader.parse("", source: "e.csv")
        }
        #expect(throws: CSVError(file: "e.csv", message: "no data rows after the header")) {
            try CSVReader.parse("a,b\n\n", source: "e.csv")
        }
    }

    @Test func unterminatedQuoteAndTextAfterQuote() {
        let a = #expect(throws: CSVError.self) { try CSVReader.parse("a,b\n1,\"open\n2,3\n") }
        #expect(a?.line == 2)
        let b = #expect(throws: CSVError.self) { try CSVReader.parse("a,b\n1,\"x\"y\n") }
        #expect(b?.description.contains("after a closing quote") == true)
    }

    @Test func badHeaderAndUnknownColumns() {
        #expect(throws: CSVError.self) { try CSVReader.parse("a,a\n1,2\n") }
        #expect(throws: CSVError.self) { try CSVReader.parse("a,\n1,2\n") }
        let e = #expect(throws: CSVError.self) { try CSVReader.parse("a,b\n1,2\n", options: CSVOptions(drop: ["c"])) }
        #expect(e?.setting == .drop)
        #expect(e?.description.contains("drop list names 'c'") == true)
        let r = #expect(throws: CSVError.self) { try CSVReader.parse("a,b\n1,2\n", options: CSVOptions(required: ["y"])) }
        #expect(r?.description.contains("no column named 'y'") == true)
    }

    @Test func missingFile() {
        let e = #expect(throws: CSVError.self) { try CSVReader.read(file: "/nonexistent/x.csv") }
        #expect(e?.description == "/nonexistent/x.csv: no such file")
    }
}
