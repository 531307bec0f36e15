/// Float32 values in ascending order, for quantiles and bin bounds of sampled columns (training's binning, drift
/// profiles): an LSD radix sort on order-preserving keys, three passes of 11 bits. (The standard library's sort took
/// ~22 ms for the 200,000 values of one column, two thirds of the binning time.)
public enum FloatSort {
    /// `values` (no NaN) in ascending order, equal keys in input order. −0 sorts before +0, which compare equal.
    public static func ascending(_ values: [Float]) -> [Float] {
        let n = values.count
        guard n > 1 else { return values }
        var keys = values.map(key)
        var scratch = [UInt32](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 2048)
        for shift in [0, 11, 22] as [UInt32] {
            counts.withUnsafeMutableBufferPointer { c in
                c.update(repeating: 0)
                keys.withUnsafeBufferPointer { k in
                    for key in k { c[Int(key >> shift & 0x7FF)] &+= 1 }
                    var total = 0
                    for d in 0..<2048 {
                        let count = c[d]
                        c[d] = total
                        total &+= count
                    }
                    scratch.withUnsafeMutableBufferPointer { out in
                        for key in k {
                            let d = Int(key >> shift & 0x7FF)
                            out[c[d]] = key
                            c[d] &+= 1
                        }
                    }
                }
            }
            swap(&keys, &scratch)
        }
        return keys.map { key in Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key) }
    }

    /// An unsigned key in the floats' order (−0 below +0; NaN not handled).
    @inlinable @inline(__always)
    public static func key(_ x: Float) -> UInt32 {
        let bits = x.bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }
}
