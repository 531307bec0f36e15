import PropensityModel
import PropensityModelFile

enum PropensityModelFileBridge {
    static func save(_ model: Model, to path: String) throws {
        try ModelFile.save(model, to: path)
    }
}
