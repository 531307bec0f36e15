import PropensityModel
import PropensityScoring

enum PropensityScoringBridge {
    static func score(_ model: Model, _ inputs: [Float]) -> [Float] { Scorer(model: model).score(inputs) }
}
