/// Which of a hub's loops an event goes to.
struct ShardSet: Sendable, Equatable {
    private let mask: UInt32
    private let everyLoop: Bool

    static let all = ShardSet(mask: 0, everyLoop: true)
    static let none = ShardSet(mask: 0, everyLoop: false)

    init(_ shard: Int) {
        self = shard < StreamHolders.trackedShards ? ShardSet(mask: 1 << UInt32(shard), everyLoop: false) : .all
    }

    init(mask: UInt32) {
        self.init(mask: mask, everyLoop: false)
    }

    private init(mask: UInt32, everyLoop: Bool) {
        self.mask = mask
        self.everyLoop = everyLoop
    }

    var isEmpty: Bool { !everyLoop && mask == 0 }

    func contains(_ shard: Int) -> Bool {
        everyLoop || (shard < StreamHolders.trackedShards && mask & (1 << UInt32(shard)) != 0)
    }
}
