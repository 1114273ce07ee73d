import NIOCore

extension ByteBuffer {
    /// Writes `value` in base 36 with lowercase digits, as `String(value, radix: 36)` spells it,
    /// without allocating a string.
    mutating func writeBase36(_ value: UInt64) {
        var scratch: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &scratch) { digits in
            let count = Base36.write(value, into: digits, at: 0)
            writeBytes(UnsafeRawBufferPointer(rebasing: digits[..<count]))
        }
    }
}

/// Base-36 digits, lowercase, as `String(value, radix: 36)` spells them. They run for every position of
/// every stream's `id:`, so each digit comes from a division by the constant 36 (a multiply and a shift),
/// not by a power of 36 worked out at run time.
enum Base36 {
    /// The most digits a value takes: 36^13 > 2^64.
    static let maxDigits = 13

    /// Writes the digits of `value` into `out` from `offset` on, which must leave `maxDigits` bytes;
    /// returns how many it wrote.
    @inline(__always)
    static func write(_ value: UInt64, into out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var scratch: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &scratch) { digits in
            var start = digits.count
            var rest = value
            repeat {
                let digit = UInt8(truncatingIfNeeded: rest % 36)
                rest /= 36
                start -= 1
                digits[start] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
            } while rest > 0
            let count = digits.count - start
            out.baseAddress!.advanced(by: offset).copyMemory(from: digits.baseAddress!.advanced(by: start), byteCount: count)
            return count
        }
    }
}
