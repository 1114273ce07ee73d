/// What a resuming stream missed: the kept events after its token's positions, across all its
/// streams, oldest first, read from history a page at a time. One Redis clock stamps every stream, so
/// positions order events across streams too: each stream keeps the next entries it read at hand, and
/// a page takes the oldest of them until it is full. So a resuming stream holds about a page,
/// however much it missed.
struct Backlog {
    /// The most events in a page.
    static let pageEntries = 100
    /// What an entry is taken to weigh until some were read.
    private static let assumedEntryBytes = 1024

    /// One history stream being read.
    private struct Source {
        let stream: Address
        /// The newest entry read so far (at first, where the client stands).
        var position: StreamPosition
        /// Entries read and not yet paged, oldest first.
        var waiting: ArraySlice<HistoryEntry> = []
        /// The last read came back short: there was nothing more then. Later entries reach the stream live.
        var exhausted = false
    }

    enum Page {
        /// The next events, oldest first.
        case events([OutboundEvent])
        /// Some missed events are no longer kept: the client must reset instead.
        case truncated
        /// Nothing more was missed.
        case end
    }

    private var sources: [Source]
    private let history: any History
    /// About how many bytes of bodies a page, and a read, may hold.
    private let pageBytes: Int
    private var readEntries = 0
    private var readBytes = 0

    init(_ positions: [(Address, StreamPosition)], from history: any History, pageBytes: Int) {
        self.sources = positions.map { Source(stream: $0.0, position: $0.1) }
        self.history = history
        self.pageBytes = max(1, pageBytes)
    }

    /// The next page: at most `pageEntries` events and about `pageBytes` of them.
    mutating func next() async throws -> Page {
        var events: [OutboundEvent] = []
        var bytes = 0
        while events.count < Self.pageEntries && bytes < pageBytes {
            // Which entry comes next is known only once every stream with more has one at hand.
            for index in sources.indices where sources[index].waiting.isEmpty && !sources[index].exhausted {
                guard try await read(index) else { return .truncated }
            }
            let oldest = sources.indices.filter { !sources[$0].waiting.isEmpty }.min {
                sources[$0].waiting.first!.position < sources[$1].waiting.first!.position
            }
            guard let oldest, let entry = sources[oldest].waiting.popFirst() else { break }
            bytes += entry.body.count
            guard var publication = try? PublicationCodec.decode(entry.body) else { continue }
            publication.position = entry.position
            events.append(OutboundEvent(publication))
        }
        return events.isEmpty ? .end : .events(events)
    }

    /// Reads the next entries of one stream; false when some after its position are no longer kept.
    /// Streams still being read share a page's worth, sized by what entries weighed so far.
    private mutating func read(_ index: Int) async throws -> Bool {
        let entryBytes = readEntries == 0 ? Self.assumedEntryBytes : max(1, readBytes / readEntries)
        let reading = sources.count(where: { !$0.exhausted })
        let limit = max(1, min(Self.pageEntries, pageBytes / entryBytes) / max(1, reading))
        let read = try await history.read(sources[index].stream, after: sources[index].position, limit: limit)
        if read.truncated { return false }
        sources[index].waiting = read.entries[...]
        sources[index].exhausted = read.entries.count < limit
        if let last = read.entries.last { sources[index].position = last.position }
        readEntries += read.entries.count
        readBytes += read.entries.reduce(0) { $0 + $1.body.count }
        return true
    }

    /// Where a reset leaves the token: past the newest entry read of each stream, and no earlier than
    /// `now`, so the next reconnect does not reset again (what was kept since arrives live).
    func newest(now: StreamPosition) -> [(Address, StreamPosition)] {
        sources.map { ($0.stream, max($0.position, now)) }
    }
}
