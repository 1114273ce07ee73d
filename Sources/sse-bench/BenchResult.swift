/// A scenario's figures: encoded as JSON (the `RESULT` line, `--json`) and printed as a table.
protocol BenchResult: Encodable {
    /// The readable summary: a title line and a table.
    var table: String { get }
}
