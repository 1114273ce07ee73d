// `POST /publish` bodies: PublicationCodec.decodeBatch as HTTPHandler calls it (untrusted, at most
// `http.maxBatchItems` items, by default), then what the
// node does next with a publication (split into legs, SSE-encode, encode for RabbitMQ), checking that
// what it sends on decodes back to the same publications.
import NIOCore

@testable import SSEFanout

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let body = bytes(start, count)
    let maxItems = NodeConfiguration().maxBatchItems
    guard let (publications, isArray) = try? PublicationCodec.decodeBatch(body, maxItems: maxItems) else { return 0 }
    require(!publications.isEmpty && publications.count <= maxItems, "batch size out of range")
    if !isArray { require(publications.count == 1, "an object decodes to one publication") }
    for publication in publications {
        require(publication.position == nil && publication.hops == 0, "an untrusted body set position or hops")
        require((1...Publication.maxTargets).contains(publication.targets.count), "target count out of range")
        for field in [publication.event, publication.id].compactMap({ $0 }) {
            require(field.utf8.count <= PublicationCodec.maxFieldLength, "event or id longer than allowed")
            require(!field.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }), "CR, LF or NUL in event or id")
        }
        for leg in publication.legs {
            _ = leg.target.key
            _ = leg.target.tag
            // One event on the wire: a single blank line, at its end.
            let frame = Array(SSEEncoder.encodeBody(leg).readableBytesView)
            require(frame.last == 0x0A, "SSE frame does not end with a newline")
            let blank = zip(frame, frame.dropFirst()).enumerated().first { $0.element == (0x0A, 0x0A) }?.offset
            require(blank == frame.count - 2, "SSE frame holds a blank line before its end")
            // What nodes send each other (trusted on the way back) is the same publication.
            requireRoundTrip(leg)
        }
    }
    return 0
}
