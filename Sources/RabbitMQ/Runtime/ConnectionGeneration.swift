import Synchronization

/// Identifies one established broker connection, unique in the process, so that an ack can be
/// matched to the connection (and consumer) whose delivery tags it refers to.
struct ConnectionGeneration: Hashable, Sendable, CustomStringConvertible {
    private static let counter = Atomic<UInt64>(0)

    /// Never issued to a real connection: deliveries made up by hand are never acked on the wire.
    static let none = ConnectionGeneration(value: 0)

    let value: UInt64

    private init(value: UInt64) {
        self.value = value
    }

    static func next() -> ConnectionGeneration {
        ConnectionGeneration(value: counter.add(1, ordering: .relaxed).newValue)
    }

    var description: String { "#\(value)" }
}
