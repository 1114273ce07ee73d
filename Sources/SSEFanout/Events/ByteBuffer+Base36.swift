import NIOCore

extension ByteBuffer {
    /// Writes `value` in base 36 with lowercase digits, as `String(value, radix: 36)` spells it,
    /// without allocating a string.
    mutating func writeBase36(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 36 { divisor &*= 36 }
        var rest = value
        while true {
            let digit = UInt8(truncatingIfNeeded: rest / divisor)
            writeInteger(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
            rest %= divisor
            if divisor == 1 { return }
            divisor /= 36
        }
    }
}
