import NIOCore

/// An event on its way to local streams: encoded once, shared by every connection that gets it.
/// A class: a broadcast pass hands it to every stream, and one reference costs one retain where the
/// fields (a buffer, an address's strings, a tag) would cost one each.
final class OutboundEvent: Sendable {
    /// The SSE fields except `id:`, which each connection writes itself (its resume token).
    let body: ByteBuffer
    /// Whom it is for (a leg's one target).
    let target: Address
    /// The publication id: a connection never gets the same id twice in a row of recent events.
    let eventKey: UInt64
    /// The history stream and position, when the event was kept.
    let stream: Address?
    /// `stream`'s tag in resume tokens, worked out once here rather than by every connection.
    let streamTag: String?
    let position: StreamPosition?
    /// `Publication.acceptedAt`.
    let acceptedAt: Int64?

    init(_ publication: Publication, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.body = SSEEncoder.encodeBody(publication, allocator: allocator)
        self.target = publication.target
        self.eventKey = FNV1a.hash64(publication.id ?? "")
        self.position = publication.position
        self.acceptedAt = publication.acceptedAt
        self.stream = publication.position != nil && publication.target.isKept ? publication.target : nil
        self.streamTag = stream?.tag
    }
}
