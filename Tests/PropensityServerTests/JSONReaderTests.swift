import Testing

@testable import PropensityServer

/// The infer body reader against RFC 8259: what it must read, exactly, and what it must refuse.
@Suite struct JSONReaderTests {
    typealias Value = InferenceRequest.JSONValue

    func parse(_ text: String) throws -> Value { try JSONReader.parse(ArraySlice(Array(text.utf8))) }

    func isInvalid(_ text: String) -> Bool {
        do { _ = try parse(text); return false } catch { return true }
    }

    @Test func readsEveryKindOfValue() throws {
        guard case .object(let o) = try parse(#" { "a" : [1, -2.5e3, 0, true, false, null, "x"], "b": {} , "c": [] } "#),
              case .array(let a)? = o["a"], case .object(let b)? = o["b"], case .array(let c)? = o["c"] else {
            Issue.record("wrong shape")
            return
        }
        #expect(a.count == 7 && b.isEmpty && c.isEmpty)
        if case .number(let x) = a[1] { #expect(x == -2500) } else { Issue.record("number") }
        if case .bool(let t) = a[3], case .null = a[5], case .string(let s) = a[6] { #expect(t && s == "x") } else { Issue.record("literals") }
    }

    @Test func numbersAreTheNearestDouble() throws {
        // A float32 printed with 17 significant digits (as Python prints it) must read back as that float32.
        for (text, expected) in [("0.10000000149011612", Double(Float(0.1))), ("1.736289381980896", 1.736289381980896),
                                 ("-0", -0.0), ("1E2", 100), ("2.2250738585072014e-308", 2.2250738585072014e-308),
                                 ("123456789012345678901234567890", 1.2345678901234568e29)] {
            guard case .number(let x) = try parse(text) else { Issue.record("\(text)"); continue }
            #expect(x == expected && x.sign == expected.sign, "\(text)")
        }
    }

    @Test func resolvesEscapes() throws {
        guard case .string(let s) = try parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 ż""#) else { Issue.record("string"); return }
        #expect(s == "a\"b\\c/d\u{8}\u{C}\n\r\té😀 ż")
    }

    @Test func refusesWhatIsNotJSON() {
        for text in ["", " ", "{", "[1,]", "[1 2]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "+1", "1e",
                     "0x10", "NaN", "Infinity", "1e999", "tru", "nul", "\"a", "\"\\x\"", "\"\\ud800\"", "\"\\udc00x\"",
                     "\"\u{1}\"", "[1] 2", "{} {}", "'a'"] {
            #expect(isInvalid(text), "\(text.debugDescription) must be refused")
        }
        #expect(isInvalid(String(repeating: "[", count: 65) + String(repeating: "]", count: 65)), "nesting beyond the limit")
        #expect(!isInvalid(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
        #expect(throws: JSONReader.Invalid.self) { try JSONReader.parse([0x22, 0xC3, 0x28, 0x22]) }  // invalid UTF-8
    }
}
