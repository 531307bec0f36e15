/// What a model expects as input: one raw feature per input column, in order.
///
/// On the wire and in the scorer every feature is one float32. A numeric feature is its value (NaN = missing).
/// A categorical feature is the index of its category in `categories` (NaN = missing; any value that is not an
/// index into `categories` is an unseen category).
public struct FeatureSchema: Sendable, Equatable {
    public var features: [Feature]

    public init(features: [Feature]) {
        self.features = features
    }

    public var count: Int { features.count }
    public var names: [String] { features.map(\.name) }

    public func index(of name: String) -> Int? {
        features.firstIndex { $0.name == name }
    }
}

public struct Feature: Sendable, Equatable {
    public var name: String
    public var kind: FeatureKind

    public init(name: String, kind: FeatureKind) {
        self.name = name
        self.kind = kind
    }

    public static func numeric(_ name: String) -> Feature { Feature(name: name, kind: .numeric) }
    public static func categorical(_ name: String, _ categories: [String]) -> Feature {
        Feature(name: name, kind: .categorical(categories: categories))
    }
}

public enum FeatureKind: Sendable, Equatable {
    case numeric
    case categorical(categories: [String])

    public var categories: [String]? {
        if case .categorical(let categories) = self { return categories }
        return nil
    }
}
