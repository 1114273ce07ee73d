/// The checker's findings for one client.
struct ClientVerdict: Sendable, Encodable {
    var client: String
    var user: String
    /// Events of the client's user that a node accepted (202) — what the client should have received.
    var published: Int
    /// Numbered events of this run received, counting repeats.
    var received: Int
    var distinct: Int
    /// Published events never received.
    var lost: Int
    /// Which ones, as ranges of seq ("14-20"), at most `DeliveryChecker.maximumRanges`.
    var lostSeqs: [String]
    /// Received minus distinct.
    var duplicated: Int
    /// Events whose seq is lower than one already received (a re-delivered old event counts here too).
    var outOfOrder: Int
    /// `reset` events: the server said what the client missed is past retention.
    var resets: Int
    /// Received events the publisher never saw accepted (its request failed after the node sent it).
    var unconfirmed: Int
    /// Numbered events of another run or another user, or with data that did not parse.
    var foreign: Int
    /// Streams the server opened for this client (`connected` events).
    var connections: Int
    /// The node of each of those streams, in order.
    var nodes: [Int]
    var latency: LatencySummary?
    var stall: StallOutcome?
    var lastStreamEnds: [String]

    var passed: Bool { lost == 0 && duplicated == 0 && outOfOrder == 0 }
}
