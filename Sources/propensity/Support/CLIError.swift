import ArgumentParser
import Foundation
import PropensityData

/// A failure the user can act on: printed as one line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command body, turning any error into `propensity: error: …` on stderr and exit status 1.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as CSVError where error.setting != nil {
        // The library names its setting; the user set it with a flag.
        FileHandle.standardError.write(Data("propensity: error: \(error) (--\(error.setting!.rawValue))\n".utf8))
        throw ExitCode(1)
    } catch {
        let message = "\(error)".replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("propensity: error: \(message)\n".utf8))
        throw ExitCode(1)
    }
}
