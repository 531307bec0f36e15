import ArgumentParser
import PropensityData
import PropensityModel
import PropensityPrivacy

/// `--id-column` and `--pseudonymise-key-file` for the commands that write one line per input row.
struct IdentityFlags: ParsableArguments {
    @Option(help: "Column identifying each row (a visitor key): written as the output's first column.")
    var idColumn: String?
    @Option(help: ArgumentHelp(
        "Key file (at least 32 bytes, mode 600): write HMAC-SHA256 pseudonyms of --id-column instead of its values.",
        discussion: "See docs/privacy.md for key files and rotation."))
    var pseudonymiseKeyFile: String?

    func validate() throws {
        if pseudonymiseKeyFile != nil && idColumn == nil {
            throw ValidationError("--pseudonymise-key-file needs --id-column")
        }
    }

    /// The column to read beside the model's inputs; refused when it is one of them (identifiers are not features).
    func extraColumns(schema: FeatureSchema) throws -> [String] {
        guard let idColumn else { return [] }
        if schema.features.contains(where: { $0.name == idColumn }) {
            throw CLIError("--id-column \(idColumn) is one of the model's inputs; name a column that only identifies rows")
        }
        return [idColumn]
    }

    /// Loads the key before any data is read, so a bad key file fails at once.
    func pseudonymiser() throws -> Pseudonymiser? {
        guard let pseudonymiseKeyFile else { return nil }
        do {
            let p = try Pseudonymiser(keyFile: pseudonymiseKeyFile)
            progress("pseudonymising \(idColumn!) with key \(p.keyFingerprint)")
            return p
        } catch {
            throw CLIError("--pseudonymise-key-file: \(error)")
        }
    }

    /// The output's identity column: its header and one value per row (pseudonyms when a key is given). A row
    /// without an identifier is an error naming its line.
    func identities(_ table: Table, pseudonymiser: Pseudonymiser?) throws -> RowIdentities? {
        guard let idColumn, let column = table.column(named: idColumn) else { return nil }
        var values: [String] = []
        values.reserveCapacity(table.rowCount)
        for row in 0..<table.rowCount {
            guard !column.isMissing(row) else {
                throw CLIError("\(table.source): line \(table.rowLines[row]): --id-column \(idColumn) is empty")
            }
            // Read as text (`extraColumns` are categorical), so `007` stays `007`.
            let raw = column.categories[Int(column.codes[row])]
            values.append(pseudonymiser.map { $0.pseudonym(raw) } ?? raw)
        }
        return RowIdentities(header: idColumn, values: values)
    }
}

/// What goes in the first output column.
struct RowIdentities {
    var header: String
    var values: [String]
}
