/// A channel with subscribers somewhere in the cluster, and how many users hold it.
public struct ChannelSummary: Sendable, Hashable {
    public var channel: String
    public var users: Int
}
