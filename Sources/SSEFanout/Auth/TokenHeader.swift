/// The JOSE header fields verification reads.
struct TokenHeader: Decodable {
    var alg: String?
    var kid: String?
    /// Extensions the token says must be understood. None are, so any makes the token unusable.
    var crit: [String]?
}
