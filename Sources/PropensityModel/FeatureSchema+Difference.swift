/// How two models' inputs differ, by column name and kind (category vocabularies may differ: each model maps a
/// file's values to its own).
public struct SchemaDifference: Sendable, Equatable, CustomStringConvertible {
    /// Columns the first schema reads and the second does not.
    public var onlyInFirst: [String]
    public var onlyInSecond: [String]
    /// Columns both read, numeric in one and categorical in the other.
    public var kindChanged: [String]

    public init(onlyInFirst: [String], onlyInSecond: [String], kindChanged: [String]) {
        self.onlyInFirst = onlyInFirst
        self.onlyInSecond = onlyInSecond
        self.kindChanged = kindChanged
    }

    public var isEmpty: Bool { onlyInFirst.isEmpty && onlyInSecond.isEmpty && kindChanged.isEmpty }

    public var description: String { description(first: "the first", second: "the second") }

    /// The difference with the two schemas named, e.g. by their models' files.
    public func description(first: String, second: String) -> String {
        var parts: [String] = []
        if !onlyInFirst.isEmpty { parts.append("only \(first) reads " + onlyInFirst.joined(separator: ", ")) }
        if !onlyInSecond.isEmpty { parts.append("only \(second) reads " + onlyInSecond.joined(separator: ", ")) }
        if !kindChanged.isEmpty { parts.append("numeric in one, categorical in the other: " + kindChanged.joined(separator: ", ")) }
        return parts.isEmpty ? "no difference" : parts.joined(separator: "; ")
    }
}

extension FeatureSchema {
    public func difference(to other: FeatureSchema) -> SchemaDifference {
        let mine = Set(names), theirs = Set(other.names)
        let changed = features.compactMap { f -> String? in
            guard let o = other.index(of: f.name) else { return nil }
            return (f.kind.categories == nil) != (other.features[o].kind.categories == nil) ? f.name : nil
        }
        return SchemaDifference(
            onlyInFirst: names.filter { !theirs.contains($0) }, onlyInSecond: other.names.filter { !mine.contains($0) },
            kindChanged: changed)
    }
}
