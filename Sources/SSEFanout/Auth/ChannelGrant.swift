/// The channels a token may subscribe to: its `channels` claim, as `NamePattern`s.
///
/// A token without a `channels` claim may subscribe to no channel at all (only to its own user,
/// session and client streams): a channel is a shared stream, and reading one must be granted, not
/// assumed. `["*"]` grants every channel.
public struct ChannelGrant: Sendable, Equatable {
    /// Exact names and `prefix*` patterns, as the token gave them.
    public let patterns: [String]

    public static let none = ChannelGrant(validated: [])

    /// Nil when a pattern is not a valid `NamePattern`.
    public init?(patterns: [String]) {
        guard patterns.allSatisfy({ NamePattern.isValid($0) }) else { return nil }
        self.patterns = patterns
    }

    private init(validated patterns: [String]) {
        self.patterns = patterns
    }

    public func allows(_ channel: String) -> Bool {
        patterns.contains { NamePattern.matches($0, channel) }
    }
}
