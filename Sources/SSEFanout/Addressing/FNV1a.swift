/// The FNV-1a hash of a string's UTF-8 bytes, in 32 and 64 bits: a short, stable value for names
/// (a channel's tag in resume tokens, an event id's key in a stream's ring of recent ids). Stable
/// across processes and versions, unlike `Hasher`, because resume tokens outlive both.
enum FNV1a {
    static func hash32(_ text: String) -> UInt32 {
        hash(text, offsetBasis: 2_166_136_261, prime: 16_777_619)
    }

    static func hash64(_ text: String) -> UInt64 {
        hash(text, offsetBasis: 14_695_981_039_346_656_037, prime: 1_099_511_628_211)
    }

    private static func hash<Hash: FixedWidthInteger & UnsignedInteger>(_ text: String, offsetBasis: Hash, prime: Hash) -> Hash {
        var hash = offsetBasis
        for byte in text.utf8 {
            hash ^= Hash(byte)
            hash = hash &* prime
        }
        return hash
    }
}
