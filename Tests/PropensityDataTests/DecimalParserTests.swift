import Foundation
import Testing

@testable import PropensityData

@Suite struct DecimalParserTests {
    func parse(_ text: String) -> Double? {
        let scratch = UnsafeMutableBufferPointer<CChar>.allocate(capacity: 128)
        defer { scratch.deallocate() }
        return Array(text.utf8).withUnsafeBufferPointer { DecimalParser.parse($0, scratch: scratch) }
    }

    @Test func acceptsDecimalSyntax() {
        #expect(parse("12") == 12)
        #expect(parse("-0.5") == -0.5)
        #expect(parse("+3") == 3)
        #expect(parse(".25") == 0.25)
        #expect(parse("4.") == 4)
        #expect(parse("7.50E-05") == 7.5e-5)
        #expect(parse("1e3") == 1000)
        #expect(parse("-0")?.sign == .minus)
        #expect(parse("0.1") == 0.1)
        #expect(parse("123456789012345678901234567890") == 123456789012345678901234567890.0)
        #expect(parse("1e-310") == 1e-310)
    }

    @Test func rejectsEverythingElse() {
        for text in ["", "-", "+", ".", "e5", "1e", "1e+", "inf", "NaN", "0x10", "1,5", "1 2", "abc", "1.2.3", "--1", "1e400"] {
            #expect(parse(text) == nil, "\(text)")
        }
    }

    /// Correct rounding: the fast path must agree with strtod bit for bit.
    @Test func agreesWithStrtodOnRandomNumbers() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<200_000 {
            let digits = 1 + rng.nextInt(below: 17)
            var text = rng.nextInt(below: 2) == 0 ? "" : "-"
            for k in 0..<digits {
                if k == rng.nextInt(below: digits + 1) { text += "." }
                text += String(rng.nextInt(below: 10))
            }
            if rng.nextInt(below: 3) == 0 { text += "e" + String(rng.nextInt(below: 50) - 25) }
            var end: UnsafeMutablePointer<CChar>? = nil
            let (expected, consumedAll) = text.withCString { start in
                let value = strtod(start, &end)
                return (value, end! - UnsafeMutablePointer(mutating: start) == text.utf8.count)
            }
            if consumedAll {
                #expect(parse(text)?.bitPattern == expected.bitPattern, "\(text)")
            } else {
                #expect(parse(text) == nil, "\(text)")
            }
        }
    }
}
