import CHiredis
import PropensityModel

/// One stream entry read as an event: the visitor and the model's feature row, or why it cannot be scored.
struct StreamEvent {
    let id: String
    /// The entry's field names and values, alternating, each a span of `bytes`: two allocations per event, not two
    /// per field.
    let bytes: [UInt8]
    let spans: [Range<Int>]

    var fieldCount: Int { spans.count / 2 }
    func name(_ k: Int) -> ArraySlice<UInt8> { bytes[spans[2 * k]] }
    func value(_ k: Int) -> ArraySlice<UInt8> { bytes[spans[2 * k + 1]] }

    enum Parsed {
        case row(visitor: [UInt8], features: [Float])
        case malformed(String)
    }

    /// Fields by schema name: every feature must be present (an empty value is a missing one); numbers must parse
    /// and be finite; a category the model does not know is scored as unseen.
    func parse(_ schema: FeatureSchema, names: FieldNames) -> Parsed {
        var values = [Range<Int>?](repeating: nil, count: schema.count)
        var visitor: Range<Int>?
        for k in 0..<fieldCount {
            let name = self.name(k)
            // Producers usually write the fields in one order: try the slot this position had last time first.
            if let slot = names.slot(of: name, near: k) {
                values[slot] = spans[2 * k + 1]
            } else if name.elementsEqual(FieldNames.visitor) {
                visitor = spans[2 * k + 1]
            }
        }
        guard let visitor, !visitor.isEmpty else { return .malformed("no visitor field") }
        var row: [Float] = []
        row.reserveCapacity(schema.count)
        for (j, feature) in schema.features.enumerated() {
            guard let span = values[j] else { return .malformed("no field '\(feature.name)'") }
            let raw = bytes[span]
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
        return .row(visitor: Array(bytes[visitor]), features: row)
    }

    /// Entries of an XREADGROUP / XAUTOCLAIM reply, read in place from hiredis' structure:
    /// `[[id, [field, value, …]], …]` (a deleted entry has no fields).
    static func entries(_ list: UnsafePointer<redisReply>?) -> [StreamEvent] {
        guard let list, list.pointee.type == REDIS_REPLY_ARRAY else { return [] }
        var events: [StreamEvent] = []
        events.reserveCapacity(list.pointee.elements)
        for i in 0..<list.pointee.elements {
            guard let entry = RedisConnection.element(list, i), entry.pointee.elements == 2,
                  let idReply = RedisConnection.element(entry, 0), let id = RedisConnection.text(idReply)
            else { continue }
            var bytes: [UInt8] = []
            var spans: [Range<Int>] = []
            if let flat = RedisConnection.element(entry, 1), flat.pointee.type == REDIS_REPLY_ARRAY {
                let count = flat.pointee.elements
                spans.reserveCapacity(count)
                var length = 0
                for k in 0..<count { length += flat.pointee.element[k]?.pointee.len ?? 0 }
                bytes.reserveCapacity(length)
                var k = 0
                while k + 1 < count {
                    if let name = RedisConnection.element(flat, k), name.pointee.type == REDIS_REPLY_STRING,
                       let value = RedisConnection.element(flat, k + 1), value.pointee.type == REDIS_REPLY_STRING {
                        for part in [name, value] {
                            let start = bytes.count
                            if let text = RedisConnection.text(part) { bytes.append(contentsOf: text) }
                            spans.append(start..<bytes.count)
                        }
                    }
                    k += 2
                }
            }
            events.append(StreamEvent(id: String(decoding: id, as: UTF8.self), bytes: bytes, spans: spans))
        }
        return events
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
    func slot(of name: ArraySlice<UInt8>, near position: Int) -> Int? {
        let guess = position - 1
        if guess >= 0, guess < names.count, names[guess].elementsEqual(name) { return guess }
        if position < names.count, names[position].elementsEqual(name) { return position }
        return slots[Array(name)]
    }

    /// A category's index: a scan of up to 32 names costs less than the array a dictionary key needs.
    func category(_ value: ArraySlice<UInt8>, feature: Int) -> Int? {
        let list = categoryNames[feature]
        if list.count <= 32 { return list.firstIndex { $0.elementsEqual(value) } }
        return categories[feature][Array(value)]
    }

    static func number(_ bytes: ArraySlice<UInt8>) -> Float? {
        bytes.withUnsafeBufferPointer { buffer in
            Float(String(decoding: buffer, as: UTF8.self))
        }
    }
}
