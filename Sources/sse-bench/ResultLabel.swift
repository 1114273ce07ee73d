/// The `--label` a result was given, as its own JSON key.
struct ResultLabel: Encodable {
    let label: String?
}
