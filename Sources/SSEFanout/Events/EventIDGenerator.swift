import Foundation

/// Server-assigned event ids: 26-character, time-ordered ULIDs (48-bit millisecond time, 80 random bits,
/// Crockford base32), unique across nodes without coordination.
public enum EventIDGenerator {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func next() -> String {
        var generator = SystemRandomNumberGenerator()
        let millis = UInt64(Date().timeIntervalSince1970 * 1000)
        let random = (UInt64(generator.next() as UInt16), generator.next() as UInt64)
        var out = [UInt8](repeating: 0, count: 26)
        // 10 characters of time (50 bits, the top 2 always zero).
        var time = millis
        for i in stride(from: 9, through: 0, by: -1) {
            out[i] = alphabet[Int(time & 31)]
            time >>= 5
        }
        // 16 characters of randomness (80 bits): 16 high bits, then 64 low bits.
        var low = random.1
        var high = random.0
        for i in stride(from: 25, through: 10, by: -1) {
            out[i] = alphabet[Int(low & 31)]
            low = (low >> 5) | (UInt64(high & 31) << 59)
            high >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }
}
