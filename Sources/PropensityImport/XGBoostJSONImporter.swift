import Foundation
import PropensityModel

/// Reads XGBoost's JSON model (`Booster.save_model("model.json")`, XGBoost 1.6–3.x) for objective
/// `binary:logistic` with the `gbtree` booster.
///
/// XGBoost's rules, and how they map onto a Propensity tree:
/// - numeric split: `x < split_condition` goes left, a missing value follows `default_left`. Inputs are float32 and
///   conditions are float32, so `x < c` is exactly `x <= c.nextDown`.
/// - categorical split: the listed categories go right, every other category (and an invalid one) left, a missing
///   value follows `default_left`. Propensity sends the listed set left, so the children are swapped.
/// - the margin is `logit(base_score) + Σ leaf values` (base_score is stored as a probability for this objective).
public enum XGBoostJSONImporter {
    public static func decode(_ data: Data, source: String) throws(ImportError) -> Model {
        func fail(_ reason: ImportError.Reason) -> ImportError { ImportError(file: source, reason: reason) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let learner = root["learner"] as? [String: Any]
        else { throw fail(.wrongFormat(hint: "not an XGBoost JSON model (no 'learner' object); save it with Booster.save_model(\"model.json\")")) }
        let version = (root["version"] as? [Any])?.map { "\($0)" }.joined(separator: ".") ?? "unknown"

        let objective = (learner["objective"] as? [String: Any])?["name"] as? String ?? "unknown"
        guard objective == "binary:logistic" else {
            throw fail(.unsupported("objective '\(objective)' is not supported: only binary:logistic models can be imported"))
        }
        let parameters = learner["learner_model_param"] as? [String: Any] ?? [:]
        if let classes = Int(parameters["num_class"] as? String ?? "0"), classes > 1 {
            throw fail(.unsupported("a \(classes)-class model is not supported: only binary classification"))
        }
        if let targets = Int(parameters["num_target"] as? String ?? "1"), targets != 1 {
            throw fail(.unsupported("a \(targets)-target model is not supported"))
        }
        guard let booster = learner["gradient_booster"] as? [String: Any] else { throw fail(.malformed("no 'gradient_booster'")) }
        let boosterName = booster["name"] as? String ?? "unknown"
        guard boosterName == "gbtree" else {
            throw fail(.unsupported("booster '\(boosterName)' is not supported: only gbtree (dart scales trees by dropout weights; gblinear has no trees)"))
        }
        guard let model = booster["model"] as? [String: Any], let trees = model["trees"] as? [[String: Any]] else {
            throw fail(.malformed("no trees in 'gradient_booster.model'"))
        }
        if let forest = (model["gbtree_model_param"] as? [String: Any])?["num_parallel_tree"] as? String, forest != "1" {
            throw fail(.unsupported("num_parallel_tree = \(forest) (boosted random forests) is not supported"))
        }
        guard let baseText = parameters["base_score"] as? String, let baseScore = Self.number(baseText),
              baseScore > 0, baseScore < 1
        else { throw fail(.malformed("base_score is missing or not a probability")) }

        let featureCount = Int(parameters["num_feature"] as? String ?? "") ?? 0
        guard featureCount > 0 else { throw fail(.malformed("num_feature is missing")) }
        let names = (learner["feature_names"] as? [String]).flatMap { $0.count == featureCount ? $0 : nil }
            ?? (0..<featureCount).map { "f\($0)" }
        let types = (learner["feature_types"] as? [String]).flatMap { $0.count == featureCount ? $0 : nil }
            ?? Array(repeating: "float", count: featureCount)
        let encodings = (model["cats"] as? [String: Any])?["enc"] as? [[String: Any]]

        // Categorical vocabularies: the encoder's values when the model has them, else codes 0…max seen in a split.
        var maxCode = [Int](repeating: -1, count: featureCount)
        for tree in trees {
            let nodes = tree["categories_nodes"] as? [Int] ?? []
            let segments = tree["categories_segments"] as? [Int] ?? []
            let sizes = tree["categories_sizes"] as? [Int] ?? []
            let categories = tree["categories"] as? [Int] ?? []
            let splitIndices = tree["split_indices"] as? [Int] ?? []
            for (k, node) in nodes.enumerated() where node < splitIndices.count && k < segments.count && k < sizes.count {
                let feature = splitIndices[node]
                guard feature >= 0, feature < featureCount, segments[k] + sizes[k] <= categories.count else { continue }
                for c in categories[segments[k]..<(segments[k] + sizes[k])] { maxCode[feature] = max(maxCode[feature], c) }
            }
        }
        var features: [Feature] = []
        for j in 0..<featureCount {
            if types[j] == "c" {
                var vocabulary = encodingValues(encodings, j) ?? []
                if Set(vocabulary).count != vocabulary.count { vocabulary = [] }  // unreadable names: use codes
                if vocabulary.count <= maxCode[j] {
                    vocabulary += (vocabulary.count...maxCode[j]).map(String.init)
                }
                features.append(.categorical(names[j], vocabulary))
            } else {
                features.append(.numeric(names[j]))
            }
        }
        let schema = FeatureSchema(features: features)

        var converted: [DecisionTree] = []
        for (t, tree) in trees.enumerated() {
            converted.append(try convert(tree, index: t, schema: schema, fail))
        }
        let ensemble = TreeEnsembleModel(
            schema: schema, baseScore: log(baseScore / (1 - baseScore)), trees: converted,
            importance: importance(converted, featureCount: featureCount))
        return Model(body: .treeEnsemble(ensemble), metadata: ModelMetadata(properties: [
            ("source", "xgboost \(version) JSON"), ("imported_from", (source as NSString).lastPathComponent),
            ("objective", objective), ("trees", String(converted.count)),
        ]))
    }

    static func convert(_ tree: [String: Any], index t: Int, schema: FeatureSchema, _ fail: (ImportError.Reason) -> ImportError)
        throws(ImportError) -> DecisionTree
    {
        guard let lefts = tree["left_children"] as? [Int], let rights = tree["right_children"] as? [Int],
              let conditions = (tree["split_conditions"] as? [Any])?.compactMap(Self.float),
              let indices = tree["split_indices"] as? [Int], let defaults = tree["default_left"] as? [Any],
              lefts.count == rights.count, lefts.count == conditions.count, lefts.count == indices.count,
              lefts.count == defaults.count, !lefts.isEmpty
        else { throw fail(.malformed("tree \(t): node arrays are missing or of different lengths")) }
        if let size = (tree["tree_param"] as? [String: Any])?["size_leaf_vector"] as? String, size != "1", size != "0" {
            throw fail(.unsupported("tree \(t): vector leaves (size_leaf_vector = \(size)) are not supported"))
        }
        let splitTypes = tree["split_type"] as? [Int] ?? Array(repeating: 0, count: lefts.count)
        var categorySets: [Int: [Int]] = [:]
        if let nodes = tree["categories_nodes"] as? [Int], let segments = tree["categories_segments"] as? [Int],
           let sizes = tree["categories_sizes"] as? [Int], let categories = tree["categories"] as? [Int]
        {
            for (k, node) in nodes.enumerated() where k < segments.count && k < sizes.count {
                guard segments[k] >= 0, segments[k] + sizes[k] <= categories.count else {
                    throw fail(.malformed("tree \(t): a category segment runs past the category list"))
                }
                categorySets[node] = Array(categories[segments[k]..<(segments[k] + sizes[k])])
            }
        }
        // Renumber: internal nodes and leaves get their own indices, in XGBoost's node order (children always come
        // after their parent there, so they still do here).
        var nodeIndex = [Int](repeating: -1, count: lefts.count)
        var leafIndex = [Int](repeating: -1, count: lefts.count)
        var internalCount = 0
        var leafCount = 0
        for i in lefts.indices {
            if lefts[i] == -1 {
                leafIndex[i] = leafCount
                leafCount += 1
            } else {
                nodeIndex[i] = internalCount
                internalCount += 1
            }
        }
        func child(_ id: Int) throws(ImportError) -> Int32 {
            guard id > 0, id < lefts.count else { throw fail(.malformed("tree \(t): child \(id) is out of range")) }
            return lefts[id] == -1 ? ~Int32(leafIndex[id]) : Int32(nodeIndex[id])
        }
        var nodes: [DecisionTree.Node] = []
        var leaves = [Double](repeating: 0, count: leafCount)
        var words: [UInt32] = []
        for i in lefts.indices {
            if lefts[i] == -1 {
                leaves[leafIndex[i]] = Double(conditions[i])
                continue
            }
            let feature = indices[i]
            guard feature >= 0, feature < schema.count else { throw fail(.malformed("tree \(t): split on feature \(feature), the model has \(schema.count)")) }
            let defaultLeft = Self.flag(defaults[i])
            if splitTypes[i] == 1 {
                guard let vocabulary = schema.features[feature].kind.categories else {
                    throw fail(.malformed("tree \(t): categorical split on feature '\(schema.features[feature].name)', which is not categorical"))
                }
                let set = categorySets[i] ?? []
                let count = (vocabulary.count + 31) / 32
                let offset = words.count
                words += [UInt32](repeating: 0, count: count)
                for c in set where c >= 0 && c < vocabulary.count { words[offset + c / 32] |= 1 << UInt32(c % 32) }
                // The listed categories go right in XGBoost and left here: swap children and the missing direction.
                nodes.append(DecisionTree.Node(
                    feature: Int32(feature), kind: .categorical, defaultLeft: !defaultLeft, threshold: 0,
                    left: try child(rights[i]), right: try child(lefts[i]), categoryOffset: UInt32(offset),
                    categoryCount: UInt32(count)))
            } else {
                guard schema.features[feature].kind == .numeric else {
                    throw fail(.malformed("tree \(t): numeric split on categorical feature '\(schema.features[feature].name)'"))
                }
                nodes.append(DecisionTree.Node(
                    feature: Int32(feature), kind: .numeric, defaultLeft: defaultLeft,
                    threshold: conditions[i].nextDown, left: try child(lefts[i]), right: try child(rights[i])))
            }
        }
        // Covers (TreeSHAP): XGBoost's per-node hessian sums, when the file has them.
        var covers: [Double] = []
        if let hessians = (tree["sum_hessian"] as? [Any])?.compactMap(Self.float), hessians.count == lefts.count {
            var leafCovers = [Double](repeating: 0, count: leafCount)
            for i in lefts.indices {
                if lefts[i] == -1 { leafCovers[leafIndex[i]] = Double(hessians[i]) } else { covers.append(Double(hessians[i])) }
            }
            covers += leafCovers
        }
        return DecisionTree(nodes: nodes, leafValues: leaves, categoryWords: words, covers: covers)
    }

    /// "5E-1", "[5E-1]" (XGBoost ≥ 2 writes a vector) or a number.
    static func number(_ text: String) -> Double? {
        Double(text.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")))
    }

    static func float(_ value: Any) -> Float? {
        if let d = value as? Double { return Float(d) }
        if let n = value as? NSNumber { return n.floatValue }
        return nil
    }

    static func flag(_ value: Any) -> Bool {
        if let b = value as? Bool { return b }
        if let n = value as? NSNumber { return n.intValue != 0 }
        return false
    }

    /// Category names from XGBoost 3's encoder (`cats.enc`): numbers as text, or strings stored as
    /// offsets into concatenated UTF-8 values.
    static func encodingValues(_ encodings: [[String: Any]]?, _ feature: Int) -> [String]? {
        guard let encodings, feature < encodings.count else { return nil }
        let entry = encodings[feature]
        if let offsets = entry["offsets"] as? [Int], !offsets.isEmpty, let values = entry["values"] as? [Int] {
            let bytes = values.map { UInt8(truncatingIfNeeded: $0) }
            var result: [String] = []
            var start = 0
            for end in offsets.dropFirst() + [bytes.count] where end >= start && end <= bytes.count {
                result.append(String(decoding: bytes[start..<end], as: UTF8.self))
                start = end
            }
            return result.isEmpty ? nil : result
        }
        if let values = entry["values"] as? [Any], !values.isEmpty {
            return values.map { v in
                if let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded() { return String(n.intValue) }
                return "\(v)"
            }
        }
        return nil
    }

    static func importance(_ trees: [DecisionTree], featureCount: Int) -> [FeatureImportance] {
        var result = [FeatureImportance](repeating: FeatureImportance(gain: 0, splits: 0), count: featureCount)
        for tree in trees { for node in tree.nodes { result[Int(node.feature)].splits += 1 } }
        return result
    }
}
