import Glibc
import PropensityModel

/// One stream entry read as an event: the visitor and the model's feature row, or why it cannot be scored.
struct StreamEvent {
    let id: String
    /// The read it came from, and the spans of that read holding its field names and values, alternating.
    private let read: StreamEntries
    private let fields: Range<Int>

    var fieldCount: Int { fields.count / 2 }
    func value(_ k: Int) -> ArraySlice<UInt8> { read.bytes[valueSpan(k)] }
    private func valueSpan(_ k: Int) -> Range<Int> { read.spans[fields.lowerBound + 2 * k + 1] }

    /// The events of one read, in order (a deleted entry has no fields).
    static func events(_ read: StreamEntries) -> [StreamEvent] {
        (0..<read.count).map { k in
            let (id, fields) = read.entry(k)
            return StreamEvent(id: String(decoding: read.bytes[id], as: UTF8.self), read: read, fields: fields)
        }
    }

    enum Parsed {
        case row(visitor: [UInt8], features: [Float])
        case malformed(String)
    }

    /// Fields by schema name: every feature must be present (an empty value is a missing one); numbers must parse
    /// and be finite; a category the model does not know is scored as unseen.
    func parse(_ schema: FeatureSchema, names: FieldNames) -> Parsed {
        read.bytes.withUnsafeBufferPointer { bytes in parse(bytes, schema, names) }
    }

    /// The same on views of the read's bytes (no reference counting per field).
    private func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ schema: FeatureSchema, _ names: FieldNames) -> Parsed {
        func view(_ span: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[span]) }
        var values = [Range<Int>?](repeating: nil, count: schema.count)
        var visitor: Range<Int>?
        for k in 0..<fieldCount {
            let name = view(read.spans[fields.lowerBound + 2 * k])
            // Producers usually write the fields in one order: try the slot this position had last time first.
            if let slot = names.slot(of: name, near: k) {
                values[slot] = valueSpan(k)
            } else if FieldNames.equal(FieldNames.visitor, name) {
                visitor = valueSpan(k)
            }
        }
        guard let visitor, !visitor.isEmpty else { return .malformed("no visitor field") }
        var row: [Float] = []
        row.reserveCapacity(schema.count)
        for (j, feature) in schema.features.enumerated() {
            guard let span = values[j] else { return .malformed("no field '\(feature.name)'") }
            let raw = view(span)
            if raw.isEmpty { row.append(.nan); continue }
            switch feature.kind {
            case .numeric:
                guard let value = FieldNames.number(raw), value.isFinite else {
                    return .malformed("field '\(feature.name)' is not a finite number")
                }
                row.append(value)
            case .categorical:
                row.append(names.category(raw, feature: j).map(Float.init) ?? -1)
            }
        }
        return .row(visitor: Array(view(visitor)), features: row)
    }

    /// Whether field `k` is the visitor key.
    func isVisitor(_ k: Int) -> Bool {
        read.bytes.withUnsafeBufferPointer { bytes in
            FieldNames.equal(FieldNames.visitor, UnsafeBufferPointer(rebasing: bytes[read.spans[fields.lowerBound + 2 * k]]))
        }
    }
}

/// A schema's field names and category names as bytes, looked up without building strings per event.
final class FieldNames {
    static let visitor = Array("visitor".utf8)
    private let names: [[UInt8]]
    private let slots: [[UInt8]: Int]
    private let categories: [[[UInt8]: Int]]

    /// Each feature's category names in index order (looked up by a scan when there are few).
    private let categoryNames: [[[UInt8]]]

    init(_ schema: FeatureSchema) {
        names = schema.names.map { Array($0.utf8) }
        slots = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        categoryNames = schema.features.map { ($0.kind.categories ?? []).map { Array($0.utf8) } }
        categories = categoryNames.map { names in
            Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// The schema index of field `name` seen at `position` of an event: the positions of the conventional layout
    /// (visitor first, then the schema's order) are tried before the dictionary.
    func slot(of name: UnsafeBufferPointer<UInt8>, near position: Int) -> Int? {
        let guess = position - 1
        if guess >= 0, guess < names.count, Self.equal(names[guess], name) { return guess }
        if position < names.count, Self.equal(names[position], name) { return position }
        return slots[Array(name)]
    }

    /// A category's index: a scan of up to 32 names costs less than the array a dictionary key needs.
    func category(_ value: UnsafeBufferPointer<UInt8>, feature: Int) -> Int? {
        let list = categoryNames[feature]
        if list.count <= 32 { return list.firstIndex { Self.equal($0, value) } }
        return categories[feature][Array(value)]
    }

    static func equal(_ a: [UInt8], _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        return b.isEmpty || a.withUnsafeBufferPointer { memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 }
    }

    static func number(_ bytes: UnsafeBufferPointer<UInt8>) -> Float? {
        Float(String(decoding: bytes, as: UTF8.self))
    }
}
