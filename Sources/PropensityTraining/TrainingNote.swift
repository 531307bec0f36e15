/// Something about a finished fit that the user should know, though nothing failed.
public enum TrainingNote: Sendable, Equatable {
    /// A categorical column had more categories than the bin limit: the `dropped` rarest ones score as missing.
    case categoriesCapped(column: String, maxBin: Int, dropped: Int)
}
