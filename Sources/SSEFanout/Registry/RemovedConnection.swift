/// A connection `Registry.removeEntries(ofNode:)` removed, with what its removal changed: the
/// remover publishes its close (and any offline or vacated) for the node that can no longer.
public struct RemovedConnection: Sendable, Hashable {
    public var record: ConnectionRecord
    public var change: PresenceChange

    public init(record: ConnectionRecord, change: PresenceChange) {
        self.record = record
        self.change = change
    }
}
