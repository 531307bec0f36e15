extension SearchSpace {
    /// Reads a search-space file over the standard space: one parameter per line, `NAME LOW HIGH [log]` to search a
    /// range or `NAME VALUE` to fix a value; `#` starts a comment; parameters not named keep their standard range.
    /// - Throws: `SearchSpecError` naming the line of the first problem.
    public static func parse(_ text: String, over base: SearchSpace = .standard) throws(SearchSpecError) -> SearchSpace {
        var space = base
        var seen: Set<TunedParameter> = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if fields.isEmpty { continue }
            guard let parameter = TunedParameter(rawValue: fields[0]) else {
                throw SearchSpecError(line: line, problem: .unknownParameter(fields[0]))
            }
            guard seen.insert(parameter).inserted else { throw SearchSpecError(line: line, problem: .repeated(parameter)) }
            var log = false
            var numbers = Array(fields.dropFirst())
            if numbers.count == 3 {
                guard numbers[2] == "log" else { throw SearchSpecError(line: line, problem: .expectedLog(numbers[2])) }
                log = true
                numbers.removeLast()
            }
            guard numbers.count == 1 || numbers.count == 2 else {
                throw SearchSpecError(line: line, problem: .fieldCount(fields.count))
            }
            var values: [Double] = []
            for text in numbers {
                guard let value = Double(text), value.isFinite else {
                    throw SearchSpecError(line: line, problem: .notANumber(text))
                }
                guard !parameter.isInteger || value == value.rounded() else {
                    throw SearchSpecError(line: line, problem: .notAnInteger(parameter, text))
                }
                guard parameter.domain.contains(value) else {
                    throw SearchSpecError(line: line, problem: .outOfDomain(parameter, requirement: parameter.domain.words))
                }
                values.append(value)
            }
            let range = SearchRange(values[0], values.last!, log: log)
            guard range.low <= range.high else { throw SearchSpecError(line: line, problem: .reversed(parameter)) }
            guard !log || range.low > 0 else { throw SearchSpecError(line: line, problem: .logNeedsPositive(parameter)) }
            space.ranges[parameter] = range
        }
        return space
    }
}
