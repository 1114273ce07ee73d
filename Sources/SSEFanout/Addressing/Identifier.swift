/// The rules every id from outside obeys (target ids, users, channels, client ids, tenants), in one
/// place: the publish JSON, the stream request and tokens all check them here.
public enum Identifier {
    /// Longest id, in UTF-8 bytes.
    public static let maxLength = 256
    /// Longest tenant name.
    public static let maxTenantLength = 64

    /// A non-empty string of at most `maxLength` bytes without control characters (a NUL, CR or LF
    /// would make a stream nobody can subscribe to, or break a log line) or bidirectional controls
    /// (they make one id look like another on an operator's screen).
    public static func validate(_ field: String, _ value: String) throws(PublicationError) {
        guard !value.isEmpty, value.utf8.count <= maxLength else {
            throw PublicationError("invalid_\(Self.code(field))", "'\(field)' must be a non-empty string of at most \(maxLength) bytes")
        }
        guard !value.unicodeScalars.contains(where: isForbidden) else {
            throw PublicationError("invalid_\(Self.code(field))", "'\(field)' must not contain control or bidirectional-override characters")
        }
    }

    /// Whether `value` passes `validate`.
    public static func isValid(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= maxLength && !value.unicodeScalars.contains(where: isForbidden)
    }

    /// Control characters, and the bidirectional marks, embeddings, overrides and isolates.
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.generalCategory == .control { return true }
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// Tenants name keys and appear in URLs: letters, digits, `.`, `_` and `-`, at most 64.
    public static func validateTenant(_ field: String, _ value: String) throws(PublicationError) {
        guard isTenant(value) else {
            throw PublicationError("invalid_tenant", "'\(field)' must be 1 to \(maxTenantLength) letters, digits, '.', '_' or '-'")
        }
    }

    public static func isTenant(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= maxTenantLength
            && value.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2E || byte == 0x5F || byte == 0x2D
            }
    }

    /// `target.id` → `target_id`, for error codes.
    private static func code(_ field: String) -> String {
        String(field.map { $0 == "." ? "_" : $0 })
    }
}
