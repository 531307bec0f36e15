import PropensityData
import PropensityModel

/// Rows as small bin indices, column-major (`bins[feature * rows + row]`): one byte per value when every feature has
/// at most 256 bins, two otherwise. Hot loops take a typed pointer once (`bins(UInt8.self)`) and are generic over
/// the width, so the width is decided once per call, never per value.
public final class BinnedData: @unchecked Sendable {
    public let rows: Int
    public let mappers: [BinMapper]
    /// `true`: `UInt16` bins; `false`: `UInt8`.
    public let wide: Bool
    /// Start of each feature's bins in a flat histogram.
    public let histogramOffsets: [Int]
    public let histogramSize: Int
    /// Each feature's missing bin (also the bin of categories without one of their own).
    public let missingBins: [Int]
    private let storage: UnsafeMutableRawPointer

    public var features: Int { mappers.count }

    /// Bins `rows` of `columns` with the given mappers, features spread over `threads` workers.
    init(columns: [Column], rows: [Int], mappers: [BinMapper], threads: Int) {
        self.rows = rows.count
        self.mappers = mappers
        var offsets: [Int] = []
        var total = 0
        for m in mappers {
            offsets.append(total)
            total += m.totalBins
        }
        histogramOffsets = offsets
        histogramSize = total
        missingBins = mappers.map(\.missingBin)
        wide = !mappers.allSatisfy { $0.totalBins <= 256 }
        let width = wide ? 2 : 1
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, rows.count * mappers.count * width), alignment: 16)
        if wide {
            Self.fill(storage.bindMemory(to: UInt16.self, capacity: rows.count * mappers.count), columns, rows, mappers, threads)
        } else {
            Self.fill(storage.bindMemory(to: UInt8.self, capacity: rows.count * mappers.count), columns, rows, mappers, threads)
        }
    }

    deinit {
        storage.deallocate()
    }

    @inline(__always)
    func bins<Bin: FixedWidthInteger>(_: Bin.Type) -> UnsafePointer<Bin> {
        UnsafePointer(storage.assumingMemoryBound(to: Bin.self))
    }

    private static func fill<T: FixedWidthInteger & UnsignedInteger>(
        _ out: UnsafeMutablePointer<T>, _ columns: [Column], _ rows: [Int], _ mappers: [BinMapper], _ threads: Int
    ) {
        let n = rows.count
        let target = UnsafeMutableSendablePointer(out)
        ParallelFor.run(count: mappers.count, threads: threads) { f in
            let column = target.pointer + f * n
            let mapper = mappers[f]
            switch mapper.kind {
            case .numeric(let bounds):
                bounds.withUnsafeBufferPointer { ub in
                    columns[f].numbers.withUnsafeBufferPointer { values in
                        rows.withUnsafeBufferPointer { r in
                            let lookup = NumericBinLookup(upperBounds: ub, missingBin: mapper.missingBin)
                            for k in 0..<n { column[k] = T(truncatingIfNeeded: lookup.bin(of: values[r[k]])) }
                        }
                    }
                }
            case .categorical(_, let binOfCode):
                let missing = Int32(mapper.missingBin)
                columns[f].codes.withUnsafeBufferPointer { codes in
                    binOfCode.withUnsafeBufferPointer { map in
                        rows.withUnsafeBufferPointer { r in
                            for k in 0..<n {
                                let code = codes[r[k]]
                                column[k] = T(truncatingIfNeeded: code < 0 ? missing : map[Int(code)])
                            }
                        }
                    }
                }
            }
        }
    }
}
