/// Header lists are kept as `(name, value)` pairs so callers need not import NIOHTTP1.
extension Array where Element == (String, String) {
    /// The value of the first header named `name`, compared ASCII case-insensitively as HTTP requires.
    func firstValue(forHeader name: String) -> String? {
        first { Self.namesMatch($0.0, name) }?.1
    }

    func containsHeader(_ name: String) -> Bool {
        contains { Self.namesMatch($0.0, name) }
    }

    /// Compares without allocating lowercased copies.
    static func namesMatch(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.utf8
        let right = rhs.utf8
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { asciiLowercased($0) == asciiLowercased($1) }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte | 0x20 : byte
    }
}
