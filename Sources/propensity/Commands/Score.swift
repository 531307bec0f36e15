import ArgumentParser
import Foundation
import PropensityClient

struct Score: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Score a CSV file through a running scorer.")

    @Option(help: "Scorer host.") var host: String = "127.0.0.1"
    @Option(help: "Scorer port.") var port: Int = 7878
    @Option(help: "Model name on the server.") var model: String
    @Option(help: "CSV file with the model's input columns.") var data: String
    @Option(help: "Field delimiter: , ; tab | (detected when omitted).") var delimiter: String?
    @Option(help: "Rows per request (requests are pipelined).") var batch: Int = 1024
    @Option(help: "File holding the server's shared-secret token.") var tokenFile: String?
    @Flag(help: "Connect with TLS.") var tls = false
    @Option(help: "CA certificate (PEM) to trust for TLS instead of the system roots.") var tlsCa: String?
    @Option(help: "Output CSV (header 'probability').") var out: String
    @OptionGroup var identity: IdentityFlags

    func run() async throws {
        try await reportingErrors {
            guard batch > 0 else { throw CLIError("--batch must be positive") }
            let token = try tokenFile.map(readToken(file:))
            let pseudonymiser = try identity.pseudonymiser()
            let client: PropensityClient
            do {
                let context = tls || tlsCa != nil ? try ClientTLS.context(caFile: tlsCa) : nil
                client = try await PropensityClient.connect(host: host, port: port, token: token, tls: context)
            } catch ClientError.server(let code, let message) {
                throw CLIError("the scorer at \(host):\(port) refused the connection: \(message) (code \(code.rawValue))")
            } catch {
                let reason = "\(error)".contains("refused") ? "connection refused" : "\(error)"
                throw CLIError("cannot connect to the scorer at \(host):\(port): \(reason)")
            }
            let info = try await client.modelInfo(model)
            let (table, features) = try readInputs(
                file: data, schema: info.schema, delimiter: try parseDelimiter(delimiter),
                extraColumns: try identity.extraColumns(schema: info.schema))
            let ids = try identity.identities(table, pseudonymiser: pseudonymiser)
            let width = info.schema.count
            let scores = try await timed("scored \(table.rowCount) rows through \(host):\(port)") {
                try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
                    for start in stride(from: 0, to: table.rowCount, by: batch) {
                        let end = min(start + batch, table.rowCount)
                        let slice = Array(features[(start * width)..<(end * width)])
                        group.addTask {
                            (start, try await client.score(
                                model: model, fingerprint: info.fingerprint, featureCount: width, features: slice))
                        }
                    }
                    var all = [Float](repeating: .nan, count: table.rowCount)
                    for try await (start, part) in group { all.replaceSubrange(start..<(start + part.count), with: part) }
                    return all
                }
            }
            try await client.close()
            try writeScores(scores, ids: ids, to: out)
            print("\(table.rowCount) scores written to \(out)")
        }
    }
}
