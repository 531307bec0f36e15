import PropensityModel
import PropensityServer

/// A scorer on a free loopback port serving `TestModels.logistic` as "conv" (or the given models).
public enum TestServer {
    public static func start(
        port: Int = 0, models: [String: Model] = ["conv": TestModels.logistic], options: ServerOptions = ServerOptions()
    ) async throws -> ScoringServer {
        let registry = ModelRegistry()
        for (name, model) in models { registry.add(model, name: name) }
        return try await ScoringServer.start(host: "127.0.0.1", port: port, registry: registry, options: options)
    }
}
