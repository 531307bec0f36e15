import Foundation
import PropensityModel

/// Reads LightGBM's text model (`Booster.save_model("model.txt")`, LightGBM 3–4) for objective `binary`.
///
/// LightGBM's rules, and how they map onto a Propensity tree:
/// - numeric split (`decision_type` bit 0 clear): `x <= threshold` (a double) goes left. Missing type (bits 2–3):
///   *None* — NaN is treated as 0, so it goes where 0 goes; *Zero* — 0 and NaN follow the default direction
///   (bit 1), which needs the node's zero-is-missing flag; *NaN* — NaN follows the default direction. The double
///   threshold becomes the largest float32 not above it, which decides every float32 input the same way.
/// - categorical split (bit 0 set): categories in the node's bitset go left; NaN, negative and unlisted ones right.
/// - probability = sigmoid(σ · Σ leaf values), σ from `objective=binary sigmoid:σ`; leaf values are scaled by σ.
public enum LightGBMTextImporter {
    public static func decode(_ text: String, source: String) throws(ImportError) -> Model {
        func fail(_ reason: ImportError.Reason) -> ImportError { ImportError(file: source, reason: reason) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        guard lines.first == "tree" else {
            throw fail(.wrongFormat(hint: "not a LightGBM text model (first line is not 'tree'); save it with Booster.save_model(\"model.txt\")"))
        }
        // Header: key=value lines up to the first "Tree=".
        var header: [String: String] = [:]
        var flags = Set<String>()
        var k = 1
        while k < lines.count, !lines[k].hasPrefix("Tree=") {
            let line = lines[k]
            if line == "end of trees" { break }
            if let eq = line.firstIndex(of: "=") {
                header[String(line[..<eq])] = String(line[line.index(after: eq)...])
            } else if !line.isEmpty {
                flags.insert(String(line))
            }
            k += 1
        }
        let objective = header["objective"] ?? "unknown"
        let objectiveParts = objective.split(separator: " ")
        guard objectiveParts.first == "binary" else {
            throw fail(.unsupported("objective '\(objective)' is not supported: only binary models can be imported"))
        }
        var sigmoid = 1.0
        for part in objectiveParts.dropFirst() where part.hasPrefix("sigmoid:") {
            guard let s = Double(part.dropFirst("sigmoid:".count)), s > 0 else { throw fail(.malformed("bad sigmoid in '\(objective)'")) }
            sigmoid = s
        }
        if flags.contains("average_output") {
            throw fail(.unsupported("average_output (random forest mode, boosting=rf) is not supported: its trees are averaged, not summed"))
        }
        if let classes = header["num_class"], classes != "1" { throw fail(.unsupported("num_class = \(classes) is not supported")) }
        if let perIteration = header["num_tree_per_iteration"], perIteration != "1" {
            throw fail(.unsupported("num_tree_per_iteration = \(perIteration) is not supported"))
        }
        guard let names = header["feature_names"]?.split(separator: " ").map(String.init), !names.isEmpty else {
            throw fail(.malformed("feature_names is missing"))
        }
        let infos = header["feature_infos"]?.split(separator: " ").map(String.init) ?? []
        let pandasCategories = Self.pandasCategorical(lines)

        // Kinds: a feature_infos entry that is a list of values (not "[min:max]" or "none") is categorical.
        var categoricalOrdinal = 0
        var features: [Feature] = []
        for (j, name) in names.enumerated() {
            let info = j < infos.count ? infos[j] : "none"
            if info.hasPrefix("[") || info == "none" {
                features.append(.numeric(name))
                continue
            }
            // A list of the category codes seen in training (−1 stands for "other"/missing and is no category).
            let listed = info.split(separator: ":").map { Int($0) }
            let codes = listed.compactMap { $0 }.filter { $0 >= 0 }
            guard !codes.isEmpty, !listed.contains(nil) else {
                throw fail(.malformed("feature_infos for '\(name)' is neither a range nor a list of category codes"))
            }
            let count = codes.max()! + 1
            var vocabulary = (0..<count).map(String.init)
            if categoricalOrdinal < pandasCategories.count {
                let named = pandasCategories[categoricalOrdinal]
                if named.count >= count, Set(named).count == named.count { vocabulary = named }
            }
            categoricalOrdinal += 1
            features.append(.categorical(name, vocabulary))
        }
        let schema = FeatureSchema(features: features)

        // Trees.
        var trees: [DecisionTree] = []
        while k < lines.count, lines[k].hasPrefix("Tree=") {
            var block: [String: String] = [:]
            k += 1
            while k < lines.count, !lines[k].isEmpty, !lines[k].hasPrefix("Tree="), lines[k] != "end of trees" {
                if let eq = lines[k].firstIndex(of: "=") {
                    block[String(lines[k][..<eq])] = String(lines[k][lines[k].index(after: eq)...])
                }
                k += 1
            }
            while k < lines.count, lines[k].isEmpty { k += 1 }
            trees.append(try convert(block, index: trees.count, schema: schema, sigmoid: sigmoid, fail))
        }
        guard !trees.isEmpty else { throw fail(.malformed("the model has no trees")) }
        let ensemble = TreeEnsembleModel(
            schema: schema, baseScore: 0, trees: trees,
            importance: XGBoostJSONImporter.importance(trees, featureCount: schema.count))
        return Model(body: .treeEnsemble(ensemble), metadata: ModelMetadata(properties: [
            ("source", "lightgbm \(header["version"] ?? "") text"),
            ("imported_from", (source as NSString).lastPathComponent), ("objective", objective),
            ("trees", String(trees.count)),
        ]))
    }

    static func convert(
        _ block: [String: String], index t: Int, schema: FeatureSchema, sigmoid: Double, _ fail: (ImportError.Reason) -> ImportError
    ) throws(ImportError) -> DecisionTree {
        func ints(_ key: String) -> [Int] { block[key]?.split(separator: " ").compactMap { Int($0) } ?? [] }
        func doubles(_ key: String) -> [Double] { block[key]?.split(separator: " ").compactMap { Double($0) } ?? [] }
        if block["is_linear"] == "1" { throw fail(.unsupported("tree \(t): linear trees (linear_tree=true) are not supported")) }
        guard let leafCount = Int(block["num_leaves"] ?? "") , leafCount >= 1 else { throw fail(.malformed("tree \(t): num_leaves is missing")) }
        let leafValues = doubles("leaf_value")
        guard leafValues.count == leafCount else { throw fail(.malformed("tree \(t): \(leafValues.count) leaf values for \(leafCount) leaves")) }
        // `shrinkage` needs no handling: LightGBM has already folded it into leaf_value.
        // Covers (TreeSHAP): LightGBM weighs by row counts (`internal_count`, `leaf_count`), as its pred_contrib does.
        let leafCounts = doubles("leaf_count")
        let internalCounts = doubles("internal_count")
        if leafCount == 1 {
            return DecisionTree(
                nodes: [], leafValues: leafValues.map { $0 * sigmoid }, categoryWords: [],
                covers: leafCounts.count == 1 ? leafCounts : [])
        }
        let n = leafCount - 1
        let features = ints("split_feature")
        let thresholds = doubles("threshold")
        let types = ints("decision_type")
        let lefts = ints("left_child")
        let rights = ints("right_child")
        guard features.count == n, thresholds.count == n, types.count == n, lefts.count == n, rights.count == n else {
            throw fail(.malformed("tree \(t): split arrays do not have num_leaves − 1 = \(n) entries"))
        }
        let boundaries = ints("cat_boundaries")
        let bitsets = block["cat_threshold"]?.split(separator: " ").compactMap { UInt32($0) } ?? []
        var nodes: [DecisionTree.Node] = []
        var words: [UInt32] = []
        for i in 0..<n {
            let feature = features[i]
            guard feature >= 0, feature < schema.count else { throw fail(.malformed("tree \(t): split on feature \(feature)")) }
            let type = types[i]
            let defaultLeft = type & 2 != 0
            let missingType = (type >> 2) & 3
            guard lefts[i] < n, rights[i] < n else { throw fail(.malformed("tree \(t): child out of range")) }
            if type & 1 != 0 {
                guard let vocabulary = schema.features[feature].kind.categories else {
                    throw fail(.malformed("tree \(t): categorical split on numeric feature '\(schema.features[feature].name)'"))
                }
                let catIndex = Int(thresholds[i])
                guard catIndex >= 0, catIndex + 1 < boundaries.count, boundaries[catIndex] <= boundaries[catIndex + 1],
                      boundaries[catIndex + 1] <= bitsets.count
                else { throw fail(.malformed("tree \(t): categorical split \(i) points outside cat_boundaries")) }
                let count = (vocabulary.count + 31) / 32
                let offset = words.count
                words += [UInt32](repeating: 0, count: count)
                for (w, word) in bitsets[boundaries[catIndex]..<boundaries[catIndex + 1]].enumerated() where w < count {
                    words[offset + w] = word
                }
                // Bits beyond the vocabulary name categories the model never saw; clear them.
                if vocabulary.count % 32 != 0 { words[offset + count - 1] &= (1 << UInt32(vocabulary.count % 32)) - 1 }
                nodes.append(DecisionTree.Node(
                    feature: Int32(feature), kind: .categorical, defaultLeft: false, threshold: 0,
                    left: Int32(lefts[i]), right: Int32(rights[i]), categoryOffset: UInt32(offset),
                    categoryCount: UInt32(count)))
            } else {
                guard schema.features[feature].kind == .numeric else {
                    throw fail(.malformed("tree \(t): numeric split on categorical feature '\(schema.features[feature].name)'"))
                }
                let threshold = thresholds[i]
                let missingGoesLeft: Bool
                switch missingType {
                case 0: missingGoesLeft = 0 <= threshold  // None: NaN is read as 0
                case 1, 2: missingGoesLeft = defaultLeft  // Zero or NaN: the default direction
                default: throw fail(.malformed("tree \(t): unknown missing type \(missingType)"))
                }
                nodes.append(DecisionTree.Node(
                    feature: Int32(feature), kind: .numeric, defaultLeft: missingGoesLeft,
                    threshold: Self.floatNotAbove(threshold), left: Int32(lefts[i]), right: Int32(rights[i]),
                    zeroIsMissing: missingType == 1))
            }
        }
        let covers = internalCounts.count == n && leafCounts.count == leafCount ? internalCounts + leafCounts : []
        return DecisionTree(nodes: nodes, leafValues: leafValues.map { $0 * sigmoid }, categoryWords: words, covers: covers)
    }

    /// The largest float32 not above `x`: for every float32 input `v`, `v <= x` exactly when `v <= result`.
    static func floatNotAbove(_ x: Double) -> Float {
        let f = Float(x)
        return Double(f) > x ? f.nextDown : f
    }

    /// `pandas_categorical:[[...], [...]]`: the category values of each categorical column, in order.
    static func pandasCategorical(_ lines: [Substring]) -> [[String]] {
        guard let line = lines.last(where: { $0.hasPrefix("pandas_categorical:") }) else { return [] }
        let json = line.dropFirst("pandas_categorical:".count)
        guard let data = json.data(using: .utf8),
              let lists = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [[Any]]
        else { return [] }
        return lists.map { list in
            list.map { v in
                if let text = v as? String { return text }
                if let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded() { return String(n.intValue) }
                return "\(v)"
            }
        }
    }
}
