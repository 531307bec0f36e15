import PropensityModel

/// Rows and scores as they travel: little-endian float32 at any alignment (the plans read straight from the receive
/// buffer and write straight into the send buffer).
@inline(__always)
func loadFeature(_ input: UnsafeRawBufferPointer, _ offset: Int) -> Float {
    Float(bitPattern: UInt32(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
}

@inline(__always)
func storeScore<Link: ScoreLink>(_ output: UnsafeMutableRawBufferPointer, _ row: Int, _ margin: Double, _ link: Link) {
    output.storeBytes(of: Float(link.probability(margin)).bitPattern.littleEndian, toByteOffset: row * 4, as: UInt32.self)
}

extension Scorer {
    /// `count` little-endian float32 at any alignment (a request's features as they arrived), as an array: for the
    /// callers that need one, such as `Explainer`.
    public static func floats(fromWire input: UnsafeRawBufferPointer, count: Int) -> [Float] {
        precondition(input.count >= count * 4)
        return (0..<count).map { loadFeature(input, $0 * 4) }
    }

    /// The index of the first ±inf among `count` little-endian float32 (any alignment), or nil. Models do not score
    /// infinities (a logistic margin would be NaN or ±inf); the server refuses such a request, `predict` such a file.
    /// One branch-free pass (it vectorizes), then a second only when there is one to locate.
    public static func firstInfinity(in input: UnsafeRawBufferPointer, count: Int) -> Int? {
        precondition(input.count >= count * 4)
        var found: UInt32 = 0
        for i in 0..<count {
            let bits = UInt32(littleEndian: input.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) & 0x7FFF_FFFF
            found |= bits == 0x7F80_0000 ? 1 : 0
        }
        guard found != 0 else { return nil }
        return (0..<count).first {
            UInt32(littleEndian: input.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) & 0x7FFF_FFFF == 0x7F80_0000
        }
    }
}
