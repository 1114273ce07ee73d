/// Connection ids: 22 base62 characters, unique without coordination. The first names the event loop
/// the stream lives on (its hub shard), so an event for one connection wakes that loop alone; the other
/// 21 are random (about 125 bits).
enum ConnectionID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    private static let length = 22
    /// 62^10 is below 2^64: one uniform draw below it gives 10 characters.
    private static let charactersPerDraw = 10

    /// Three draws from the system generator (each a `getrandom` call) instead of one per character:
    /// the system calls were a visible part of opening a stream. Each character is still uniform.
    static func next(shard: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var out = [UInt8]()
        out.reserveCapacity(length)
        // A hub of more loops than the alphabet names: a random first character, and every loop looks.
        out.append(alphabet[shard < alphabet.count ? shard : Int(generator.next(upperBound: UInt64(alphabet.count)))])
        while out.count < length {
            let count = min(charactersPerDraw, length - out.count)
            var draw = generator.next(upperBound: power(count))
            for _ in 0..<count {
                out.append(alphabet[Int(draw % 62)])
                draw /= 62
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Random ids that name no loop (a node's boot id).
    static func next() -> String {
        next(shard: alphabet.count)
    }

    /// The shard an id names (any id of 22 base62 characters names one; it is looked for only there).
    static func shard(of id: String) -> Int? {
        guard id.utf8.count == length, let first = id.utf8.first else { return nil }
        return alphabet.firstIndex(of: first)
    }

    private static func power(_ exponent: Int) -> UInt64 {
        (0..<exponent).reduce(1) { result, _ in result * 62 }
    }
}
