/// How many of this node's streams answer to one address, and on which event loops they are: what
/// lets `LocalHub` wake only the loops an event is for. Eight bytes, the size of the count it replaced,
/// so an idle stream costs no more memory for it.
struct StreamHolders: Sendable, Equatable {
    /// The most loops the set tells apart; a hub with more wakes every loop (`ShardSet.all`).
    static let trackedShards = 32

    private(set) var streams: UInt32 = 0
    /// Bit `i` set: shard `i` holds at least one of the streams.
    private(set) var shards: UInt32 = 0

    mutating func added(onShard shard: Int) {
        streams += 1
        if shard < Self.trackedShards { shards |= 1 << UInt32(shard) }
    }

    /// One stream fewer; `shardEmptied` when the shard it was on holds no other one.
    mutating func removed(fromShard shard: Int, shardEmptied: Bool) {
        streams -= 1
        if shardEmptied, shard < Self.trackedShards { shards &= ~(1 << UInt32(shard)) }
    }

    var isEmpty: Bool { streams == 0 }
}
