/// The rules every id from outside obeys (target ids, users, channels, client ids, tenants), in one
/// place: the publish JSON, the stream request and tokens all check them here.
public enum Identifier {
    /// Longest id, in UTF-8 bytes.
    public static let maxLength = 256
    /// Longest tenant name.
    public static let maxTenantLength = 64

    /// A non-empty string of at most `maxLength` bytes without control characters (a NUL, CR or LF
    /// would make a stream nobody can subscribe to, or break a log line).
    public static func validate(_ field: String, _ value: String) throws(PublicationError) {
        guard !value.isEmpty, value.utf8.count <= maxLength else {
            throw PublicationError("invalid_\(Self.code(field))", "'\(field)' must be a non-empty string of at most \(maxLength) bytes")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw PublicationError("invalid_\(Self.code(field))", "'\(field)' must not contain control characters")
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
