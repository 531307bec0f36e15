import Foundation

/// The experiments file beside the models (`experiments.json`, docs/experiments.md), parsed and checked on its own;
/// `RouteTable.load` then checks it against the loaded models.
public enum ExperimentsFile {
    public static let fileName = "experiments.json"

    private struct Document: Decodable {
        var routes: [RouteEntry]
    }

    private struct RouteEntry: Decodable {
        var name: String
        var salt: String?
        var variants: [VariantEntry]
        var shadows: [String]?
    }

    private struct VariantEntry: Decodable {
        var model: String
        var percent: Double
    }

    /// - Throws: `ExperimentsError` naming the file, route and model of the first problem.
    public static func parse(_ data: Data, file: String) throws(ExperimentsError) -> [Route] {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .malformed(file: file, detail: "missing \"\(key.stringValue)\" at \(path(context))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .malformed(file: file, detail: "wrong type at \(path(context))")
        } catch {
            throw .malformed(file: file, detail: "not valid JSON")
        }
        var routes: [Route] = []
        var names = Set<String>()
        for entry in document.routes {
            guard !entry.name.isEmpty else { throw .emptyRouteName(file: file) }
            guard names.insert(entry.name).inserted else { throw .duplicateRoute(file: file, route: entry.name) }
            guard let salt = entry.salt, !salt.isEmpty else { throw .missingSalt(file: file, route: entry.name) }
            guard !entry.variants.isEmpty else { throw .noVariants(file: file, route: entry.name) }
            var variants: [Route.Variant] = []
            for v in entry.variants {
                let points = (v.percent * 100).rounded()
                guard v.percent > 0, v.percent <= 100, abs(points - v.percent * 100) < 1e-6 else {
                    throw .badPercentage(file: file, route: entry.name, model: v.model, value: v.percent)
                }
                variants.append(Route.Variant(model: v.model, basisPoints: Int(points)))
            }
            let total = variants.reduce(0) { $0 + $1.basisPoints }
            guard total == Route.buckets else {
                throw .percentagesDoNotSum(file: file, route: entry.name, total: Double(total) / 100)
            }
            let shadows = entry.shadows ?? []
            var seen = Set<String>()
            for model in variants.map(\.model) + shadows where !seen.insert(model).inserted {
                throw .duplicateModel(file: file, route: entry.name, model: model)
            }
            routes.append(Route(name: entry.name, salt: salt, variants: variants, shadows: shadows))
        }
        return routes
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        return keys.isEmpty ? "the top level" : String(keys.drop { $0 == "." })
    }
}
