// `POST /send/<path>` bodies as they stream to the backend: JSONStreamValidator checks a body piece by
// piece, however the network cut it. The verdict (still possibly JSON, whole JSON) must not depend on
// where the pieces end: fed whole, fed byte by byte, and fed in pieces cut where the input says.
@testable import SSEFanout

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = bytes(start, count)
    guard let cut = input.first else { return 0 }
    let body = Array(input.dropFirst())

    var whole = JSONStreamValidator()
    let wholeValid = whole.feed(body)

    var byByte = JSONStreamValidator()
    var byteValid = true
    for byte in body where byteValid { byteValid = byByte.feed(CollectionOfOne(byte)) }

    // Pieces of 1 to 256 bytes, sized by the first byte of the input.
    var pieces = JSONStreamValidator()
    var piecesValid = true
    var offset = 0
    let size = Int(cut) + 1
    while offset < body.count, piecesValid {
        piecesValid = pieces.feed(body[offset..<min(offset + size, body.count)])
        offset += size
    }

    require(wholeValid == byteValid && wholeValid == piecesValid, "the verdict depends on where the body was cut")
    if wholeValid {
        require(whole.isComplete == byByte.isComplete && whole.isComplete == pieces.isComplete, "completeness depends on the cuts")
    }
    return 0
}
