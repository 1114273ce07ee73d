/// Why a publication was refused. Each case maps to a 4xx answer with a JSON body.
public struct PublicationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable machine-readable code, e.g. `unknown_target_type`.
    public var code: String
    /// What is wrong, in words a publisher can act on.
    public var message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
