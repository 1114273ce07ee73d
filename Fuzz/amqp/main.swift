// RabbitMQ message bodies as a node reads them (QueueConsumer, Node.startUp): PublicationCodec.decodeBatch
// trusted (from another node) and untrusted (ingress, dead letters, anything a producer wrote: at most
// `http.maxBatchItems` items), and
// Kick.decode (control messages, kick bars read back from Redis). What a node would pass on must decode
// back to the same value.
@testable import SSEFanout

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let body = bytes(start, count)
    for trusted in [true, false] {
        let maxItems = trusted ? .max : NodeConfiguration().maxBatchItems
        guard let (publications, _) = try? PublicationCodec.decodeBatch(body, trusted: trusted, maxItems: maxItems) else { continue }
        require(!publications.isEmpty, "a decoded batch is never empty")
        for publication in publications {
            require(publication.hops >= 0, "negative hops")
            if !trusted { require(publication.position == nil && publication.hops == 0, "an untrusted body set position or hops") }
            for leg in publication.legs {
                _ = SSEEncoder.encodeBody(leg)
                requireRoundTrip(leg)
            }
        }
        // What a node sends another: all of them in one message.
        let batch = PublicationCodec.encodeBatch(publications.flatMap(\.legs).map(PublicationCodec.encode))
        guard let (again, _) = try? PublicationCodec.decodeBatch(batch, trusted: true) else {
            fatalError("re-encoded batch does not decode")
        }
        require(again == publications.flatMap(\.legs), "batch changed through encode/decode")
    }
    if let kick = try? Kick.decode(body) {
        require(!kick.reason.isEmpty && kick.reason.utf8.count <= Kick.maxReasonLength, "kick reason out of range")
        _ = Farewell.event(.kicked, message: kick.reason, reconnect: kick.reconnect)
        KickBars(now: { 0 }).add(kick)
        let again: Kick
        do {
            again = try Kick.decode(kick.encode())
        } catch {
            fatalError("re-encoded kick does not decode: \(error)")
        }
        require(again == kick, "kick changed through encode/decode")
    }
    return 0
}
