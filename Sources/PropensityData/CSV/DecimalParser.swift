import Foundation

/// Parses decimal numbers (`-12`, `3.25`, `.5`, `1e-3`, `7.50E-05`) from CSV field bytes, correctly rounded.
///
/// Most values in data files have at most 15 significant digits and a small exponent; those are converted exactly
/// with one multiplication or division by an exact power of ten (Clinger's fast path, which is correctly rounded
/// because both operands are exact doubles). Anything else — long mantissas, large exponents — goes to `strtod`.
/// Loading spends most of its time here, so the common case avoids the libc call and its locale machinery.
enum DecimalParser {
    /// 10^0 … 10^22: every one is exactly representable as a double.
    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// The value of `bytes`, or nil when they are not a plain decimal number (no `inf`, `nan`, hex, or spaces).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutableBufferPointer<CChar>) -> Double? {
        let n = bytes.count
        guard n > 0 else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == 0x2D || bytes[0] == 0x2B {
            negative = bytes[0] == 0x2D
            i = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits taken into the mantissa
        var sawDigit = false
        var decimalExponent = 0
        while i < n, bytes[i] &- 0x30 < 10 {
            sawDigit = true
            if mantissa != 0 || bytes[i] != 0x30 { digits += 1 }
            mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 0x30)
            i += 1
        }
        if i < n, bytes[i] == 0x2E {
            i += 1
            while i < n, bytes[i] &- 0x30 < 10 {
                sawDigit = true
                if mantissa != 0 || bytes[i] != 0x30 { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 0x30)
                decimalExponent -= 1
                i += 1
            }
        }
        guard sawDigit else { return nil }
        if i < n, bytes[i] == 0x65 || bytes[i] == 0x45 {
            i += 1
            var exponentNegative = false
            if i < n, bytes[i] == 0x2D || bytes[i] == 0x2B {
                exponentNegative = bytes[i] == 0x2D
                i += 1
            }
            var exponent = 0
            var sawExponentDigit = false
            while i < n, bytes[i] &- 0x30 < 10 {
                sawExponentDigit = true
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[i] &- 0x30) }
                i += 1
            }
            guard sawExponentDigit else { return nil }
            decimalExponent += exponentNegative ? -exponent : exponent
        }
        guard i == n else { return nil }

        if digits <= 15, decimalExponent >= -22, decimalExponent <= 22 {
            var value = Double(mantissa)  // exact: mantissa < 10^15 < 2^53
            if decimalExponent < 0 {
                value /= powersOfTen[-decimalExponent]
            } else {
                value *= powersOfTen[decimalExponent]
            }
            return negative ? -value : value
        }
        return slowPath(bytes, scratch: scratch)
    }

    /// `strtod` on a NUL-terminated copy; the syntax was already checked.
    private static func slowPath(_ bytes: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutableBufferPointer<CChar>)
        -> Double?
    {
        guard bytes.count < scratch.count else { return nil }
        for (k, b) in bytes.enumerated() { scratch[k] = CChar(bitPattern: b) }
        scratch[bytes.count] = 0
        var end: UnsafeMutablePointer<CChar>?
        let value = strtod(scratch.baseAddress!, &end)
        guard let end, end - scratch.baseAddress! == bytes.count, value.isFinite else { return nil }
        return value
    }
}
