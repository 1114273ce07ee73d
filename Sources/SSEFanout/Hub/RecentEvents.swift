/// The last few event ids a connection got, as hashes in a ring: a retried publish that reaches the
/// connection twice (the first try half-failed) is written once.
struct RecentEvents {
    private static let capacity = 32
    private var keys: [UInt64] = []
    private var next = 0

    func contains(_ key: UInt64) -> Bool { keys.contains(key) }

    mutating func insert(_ key: UInt64) {
        if keys.count < Self.capacity {
            keys.append(key)
        } else {
            keys[next] = key
            next = (next + 1) % Self.capacity
        }
    }
}
