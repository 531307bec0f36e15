/// A problem with an input file, located as precisely as possible (file, physical line, column).
///
/// Messages never quote feature values: files hold personal data and errors end up in logs.
public struct CSVError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var column: String?
    public var message: String
    /// The caller's setting the problem is in, when it is one rather than the file (a command line names its flag).
    public var setting: Setting?

    /// Settings of `CSVOptions` and `LabelReader` an error can be about.
    public enum Setting: String, Sendable, Equatable {
        case drop, categorical, numeric, positive
    }

    public init(file: String, line: Int? = nil, column: String? = nil, message: String, setting: Setting? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.setting = setting
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let column { text += "column '\(column)': " }
        return text + message
    }
}
