/// Why an experiments file was refused. The routes loaded before keep serving; the error names the file and, where
/// there is one, the route and model.
public enum ExperimentsError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(file: String)
    /// Not JSON of the documented shape: `detail` says where.
    case malformed(file: String, detail: String)
    case emptyRouteName(file: String)
    case duplicateRoute(file: String, route: String)
    case missingSalt(file: String, route: String)
    case noVariants(file: String, route: String)
    /// A percentage that is not in (0, 100] with at most two decimals.
    case badPercentage(file: String, route: String, model: String, value: Double)
    /// The variants' percentages add up to `total`, not 100.
    case percentagesDoNotSum(file: String, route: String, total: Double)
    case duplicateModel(file: String, route: String, model: String)
    /// A variant or shadow that no loaded model answers to.
    case unknownModel(file: String, route: String, model: String)
    /// A variant or shadow whose schema is not the first variant's: one request's rows must fit all of them.
    case schemaDiffers(file: String, route: String, model: String)

    public var description: String {
        switch self {
        case .unreadable(let file): "\(file): cannot read the experiments file"
        case .malformed(let file, let detail): "\(file): \(detail)"
        case .emptyRouteName(let file): "\(file): a route has an empty name"
        case .duplicateRoute(let file, let route): "\(file): route '\(route)' appears twice"
        case .missingSalt(let file, let route): "\(file): route '\(route)' needs a non-empty \"salt\""
        case .noVariants(let file, let route): "\(file): route '\(route)' has no variants"
        case .badPercentage(let file, let route, let model, let value):
            "\(file): route '\(route)', model '\(model)': percent \(value) is not in (0, 100] with at most two decimals"
        case .percentagesDoNotSum(let file, let route, let total):
            "\(file): route '\(route)': the variants' percentages add up to \(total), not 100"
        case .duplicateModel(let file, let route, let model): "\(file): route '\(route)' names model '\(model)' twice"
        case .unknownModel(let file, let route, let model): "\(file): route '\(route)': no model '\(model)' is loaded"
        case .schemaDiffers(let file, let route, let model):
            "\(file): route '\(route)': model '\(model)' has another schema than the route's first variant"
        }
    }
}
