/// Connection ids: 22 random base62 characters (about 131 bits), unique without coordination.
enum ConnectionID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    private static let length = 22
    /// 62^10 is below 2^64: one uniform draw below it gives 10 characters.
    private static let charactersPerDraw = 10

    /// Three draws from the system generator (each a `getrandom` call) instead of one per character:
    /// the system calls were a visible part of opening a stream. Each character is still uniform.
    static func next() -> String {
        var generator = SystemRandomNumberGenerator()
        var out = [UInt8]()
        out.reserveCapacity(length)
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

    private static func power(_ exponent: Int) -> UInt64 {
        (0..<exponent).reduce(1) { result, _ in result * 62 }
    }
}
