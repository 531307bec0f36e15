import ArgumentParser
import Foundation

@main
struct Propensity: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "propensity",
        abstract: "Train conversion-propensity models and serve their scores.",
        version: version,
        subcommands: [
            Generate.self, Train.self, Evaluate.self, Predict.self, Inspect.self, Import.self, Serve.self, Score.self,
            LoadTest.self, CrossValidate.self, Tune.self, Drift.self, JoinOutcomes.self, Stream.self,
        ]
    )

    /// Like swift-argument-parser's own entry point, but a usage error (an unknown flag, a value an enum does not
    /// take) is one line, `propensity: error: …`, as every other error is; help and version print as usual.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode {
                exit(withError: error)
            }
            let message = message(for: error).replacingOccurrences(of: "\n", with: " ")
            FileHandle.standardError.write(Data("propensity: error: \(message)\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
