import PropensityModel

/// Rows and scores as they travel: little-endian float32 at any alignment (the plans read straight from the receive
/// buffer and write straight into the send buffer).
@inline(__always)
func loadFeature(_ input: UnsafeRawBufferPointer, _ offset: Int) -> Float {
    Float(bitPattern: UInt32(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
}

@inline(__always)
func storeScore(_ output: UnsafeMutableRawBufferPointer, _ row: Int, _ margin: Double) {
    output.storeBytes(of: Float(Sigmoid.of(margin)).bitPattern.littleEndian, toByteOffset: row * 4, as: UInt32.self)
}
