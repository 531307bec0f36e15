/// Writing CSV fields (RFC 4180), for every file Propensity writes: scores, explanations, the sampled feed.
public enum CSVField {
    /// The text as one field: quoted, with quotes doubled, when it holds a comma, quote or line break.
    public static func quoted(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
