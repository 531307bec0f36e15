import PropensityModel

/// One stream entry read as an event: the visitor and the model's feature row, or why it cannot be scored.
struct StreamEvent {
    let id: String
    let fields: [(String, [UInt8])]

    enum Parsed {
        case row(visitor: [UInt8], features: [Float])
        case malformed(String)
    }

    static let visitorField = "visitor"

    /// Fields by schema name: every feature must be present (an empty value is a missing one); numbers must parse
    /// and be finite; a category the model does not know is scored as unseen.
    func parse(_ schema: FeatureSchema) -> Parsed {
        var byName: [String: [UInt8]] = [:]
        for (name, value) in fields { byName[name] = value }
        guard let visitor = byName[Self.visitorField], !visitor.isEmpty else { return .malformed("no visitor field") }
        var row: [Float] = []
        row.reserveCapacity(schema.count)
        for feature in schema.features {
            guard let raw = byName[feature.name] else { return .malformed("no field '\(feature.name)'") }
            if raw.isEmpty { row.append(.nan); continue }
            let text = String(decoding: raw, as: UTF8.self)
            switch feature.kind {
            case .numeric:
                guard let value = Float(text), value.isFinite else {
                    return .malformed("field '\(feature.name)' is not a finite number")
                }
                row.append(value)
            case .categorical(let categories):
                row.append(categories.firstIndex(of: text).map(Float.init) ?? -1)
            }
        }
        return .row(visitor: visitor, features: row)
    }

    /// Entries of an XREADGROUP / XAUTOCLAIM reply: `[[id, [field, value, …]], …]` (a deleted entry has no fields).
    static func entries(_ reply: RedisReply) -> [StreamEvent] {
        (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
            let flat = parts[1].array ?? []
            var fields: [(String, [UInt8])] = []
            var k = 0
            while k + 1 < flat.count {
                if case .bulk(let name) = flat[k], case .bulk(let value) = flat[k + 1] {
                    fields.append((String(decoding: name, as: UTF8.self), value))
                }
                k += 2
            }
            return StreamEvent(id: id, fields: fields)
        }
    }
}
