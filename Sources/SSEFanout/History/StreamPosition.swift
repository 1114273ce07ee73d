/// A place in a history stream: a Redis stream entry id, `<milliseconds>-<sequence>`.
public struct StreamPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64 = 0) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `ms-seq` (a Redis stream id).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let ms = UInt64(parts[0]), let seq = UInt64(parts[1]) else { return nil }
        self.init(milliseconds: ms, sequence: seq)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (a: StreamPosition, b: StreamPosition) -> Bool {
        (a.milliseconds, a.sequence) < (b.milliseconds, b.sequence)
    }
}

/// A position in a named stream: one kept entry.
public struct HistoryPosition: Sendable, Hashable {
    public var stream: Address
    public var position: StreamPosition

    public init(stream: Address, position: StreamPosition) {
        self.stream = stream
        self.position = position
    }
}
