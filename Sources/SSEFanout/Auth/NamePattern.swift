/// A name or a `prefix*` pattern, as `channels` and `publish` claims hold them: `*` alone matches any
/// name, `news-*` any name that starts with `news-`, anything else only itself. A `*` anywhere but at
/// the end is refused when the token is read, so that no pattern means something other than it looks.
enum NamePattern {
    static func isValid(_ pattern: some StringProtocol) -> Bool {
        guard !pattern.isEmpty, pattern.utf8.count <= ClaimRules.maxIdentifierLength else { return false }
        guard !pattern.unicodeScalars.contains(where: Identifier.isForbidden) else { return false }
        guard let star = pattern.utf8.firstIndex(of: UInt8(ascii: "*")) else { return true }
        return pattern.utf8.index(after: star) == pattern.utf8.endIndex
    }

    static func matches(_ pattern: some StringProtocol, _ name: some StringProtocol) -> Bool {
        guard pattern.hasSuffix("*") else { return pattern.utf8.elementsEqual(name.utf8) }
        return name.utf8.starts(with: pattern.utf8.dropLast())
    }
}
