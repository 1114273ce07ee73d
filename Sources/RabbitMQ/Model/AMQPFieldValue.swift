/// A value in an AMQP field table (message headers, queue arguments).
///
/// Only the kinds this service needs; received headers of other kinds (arrays, nested tables,
/// decimals, floats) are left out when decoding.
public enum AMQPFieldValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
}

extension AMQPFieldValue {
    /// The text of a `.string` value.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
