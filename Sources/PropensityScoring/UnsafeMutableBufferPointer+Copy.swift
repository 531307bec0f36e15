extension UnsafeMutableBufferPointer {
    /// A new buffer (at least one element; free it with `deallocate()`) holding `elements` and then `padding` copies of
    /// `filler`.
    static func copy(_ elements: [Element], padding: Int, with filler: Element) -> UnsafeMutableBufferPointer<Element> {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: Swift.max(1, elements.count + padding))
        buffer.initialize(repeating: filler)
        _ = buffer.initialize(from: elements)
        return buffer
    }
}
