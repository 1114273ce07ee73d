/// Connection ids: 22 random base62 characters (about 131 bits), unique without coordination.
enum ConnectionID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func next() -> String {
        var generator = SystemRandomNumberGenerator()
        var out = [UInt8]()
        out.reserveCapacity(22)
        for _ in 0..<22 {
            out.append(alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
