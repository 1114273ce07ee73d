/// Two values encoded as one flat JSON object (their keys side by side): a result's settings with its
/// figures, or a result with its `--label`.
struct MergedEncoding<First: Encodable, Second: Encodable>: Encodable {
    let first: First
    let second: Second

    func encode(to encoder: any Encoder) throws {
        try first.encode(to: encoder)
        try second.encode(to: encoder)
    }
}
