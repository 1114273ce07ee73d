/// Live events a stream holds back while it opens and while it replays what its client missed, so
/// those go first. Bounded like a live client's unsent bytes: a stream that would hold more is too far
/// behind, and is closed as a slow client (it resumes with its last id).
struct HeldEvents {
    /// However small the events, no more than this many.
    static let maxCount = 1024

    private(set) var events: [OutboundEvent] = []
    private var bytes = 0

    /// Holds `event`; false (and nothing held) when that would pass `maxCount` or `maxBytes` (one event
    /// is always taken, as a live stream always writes one).
    mutating func append(_ event: OutboundEvent, maxBytes: Int) -> Bool {
        let size = event.body.readableBytes
        guard events.count < Self.maxCount, events.isEmpty || bytes + size <= maxBytes else { return false }
        events.append(event)
        bytes += size
        return true
    }

    /// Everything held, oldest first, leaving nothing.
    mutating func takeAll() -> [OutboundEvent] {
        defer { self = HeldEvents() }
        return events
    }
}
