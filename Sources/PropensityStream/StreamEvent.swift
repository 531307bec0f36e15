import PropensityModel

/// One stream entry read as an event: the visitor and the model's feature row, or why it cannot be scored.
struct StreamEvent {
    let id: String
    let fields: [([UInt8], [UInt8])]

    enum Parsed {
        case row(visitor: [UInt8], features: [Float])
        case malformed(String)
    }

    /// Fields by schema name: every feature must be present (an empty value is a missing one); numbers must parse
    /// and be finite; a category the model does not know is scored as unseen.
    func parse(_ schema: FeatureSchema, names: FieldNames) -> Parsed {
        var values = [[UInt8]?](repeating: nil, count: schema.count)
        var visitor: [UInt8]?
        for (position, (name, value)) in fields.enumerated() {
            // Producers usually write the fields in one order: try the slot this position had last time first.
            if let slot = names.slot(of: name, near: position) { values[slot] = value } else if name == FieldNames.visitor { visitor = value }
        }
        guard let visitor, !visitor.isEmpty else { return .malformed("no visitor field") }
        var row: [Float] = []
        row.reserveCapacity(schema.count)
        for (j, feature) in schema.features.enumerated() {
            guard let raw = values[j] else { return .malformed("no field '\(feature.name)'") }
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
        return .row(visitor: visitor, features: row)
    }

    /// Entries of an XREADGROUP / XAUTOCLAIM reply: `[[id, [field, value, …]], …]` (a deleted entry has no fields).
    static func entries(_ reply: RedisReply) -> [StreamEvent] {
        (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
            let flat = parts[1].array ?? []
            var fields: [([UInt8], [UInt8])] = []
            var k = 0
            while k + 1 < flat.count {
                if case .bulk(let name) = flat[k], case .bulk(let value) = flat[k + 1] {
                    fields.append((name, value))
                }
                k += 2
            }
            return StreamEvent(id: id, fields: fields)
        }
    }
}

/// A schema's field names and category names as bytes, looked up without building strings per event.
final class FieldNames {
    static let visitor = Array("visitor".utf8)
    private let names: [[UInt8]]
    private let slots: [[UInt8]: Int]
    private let categories: [[[UInt8]: Int]]

    init(_ schema: FeatureSchema) {
        names = schema.names.map { Array($0.utf8) }
        slots = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        categories = schema.features.map { feature in
            Dictionary((feature.kind.categories ?? []).enumerated().map { (Array($1.utf8), $0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// The schema index of field `name` seen at `position` of an event: the positions of the conventional layout
    /// (visitor first, then the schema's order) are tried before the dictionary.
    func slot(of name: [UInt8], near position: Int) -> Int? {
        let guess = position - 1
        if guess >= 0, guess < names.count, names[guess] == name { return guess }
        if position < names.count, names[position] == name { return position }
        return slots[name]
    }

    func category(_ value: [UInt8], feature: Int) -> Int? { categories[feature][value] }

    static func number(_ bytes: [UInt8]) -> Float? {
        bytes.withUnsafeBufferPointer { buffer in
            Float(String(decoding: buffer, as: UTF8.self))
        }
    }
}
