/// What the string claims of a token may hold. Checked when a token is verified and when one is minted,
/// so that a node never mints a token it would refuse.
enum ClaimRules {
    static let maxIdentifierLength = 256
    static let maxTenantLength = 64

    /// `sub` and `sid`: what `Identifier` allows of any id (non-empty, at most 256 bytes, no control or
    /// bidirectional characters): they end up in logs, registry entries and event routing keys.
    static func isValidIdentifier(_ value: String) -> Bool {
        Identifier.isValid(value)
    }

    /// `tenant`: `[A-Za-z0-9._-]{1,64}`, narrow enough to be safe in a key prefix or a queue name.
    static func isValidTenant(_ value: String) -> Bool {
        let bytes = value.utf8
        return !bytes.isEmpty && bytes.count <= maxTenantLength
            && bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }
}
