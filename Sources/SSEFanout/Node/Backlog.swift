/// What a resuming stream missed: the kept events after its token's positions, across all its
/// streams, oldest first.
struct Backlog: Sendable {
    var events: [OutboundEvent]
    /// Some missed events are no longer kept: the client must reset instead.
    var truncated: Bool
    /// Where a reset leaves the token: past the newest kept event of each stream, and no earlier
    /// than now, so the next reconnect does not reset again.
    var newest: [(Address, StreamPosition)]

    static func load(_ positions: [(Address, StreamPosition)], from history: any History, now: StreamPosition) async throws -> Backlog {
        var entries: [(stream: Address, entry: HistoryEntry)] = []
        var truncated = false
        var newest: [(Address, StreamPosition)] = []
        for (stream, position) in positions {
            let read = try await history.read(stream, after: position)
            truncated = truncated || read.truncated
            entries += read.entries.map { (stream, $0) }
            newest.append((stream, max(read.entries.last?.position ?? now, now)))
        }
        // One Redis clock stamps every stream, so positions order events across streams too.
        entries.sort { $0.entry.position < $1.entry.position }
        let events = entries.compactMap { stream, entry -> OutboundEvent? in
            guard var publication = try? PublicationCodec.decode(entry.body) else { return nil }
            publication.position = entry.position
            return OutboundEvent(publication)
        }
        return Backlog(events: events, truncated: truncated, newest: newest)
    }
}
