import Testing

@testable import SSEFanout

/// Inputs the fuzz targets (Fuzz/, scripts/fuzz.sh) found, minimized: each crashed a node or changed
/// an event on its way between nodes before its fix.
@Suite struct FuzzFindingsTests {
    /// A client id that starts with a combining mark (U+0F75 here) joins the `/` between user and id
    /// into one Character: the address's parts could not be found again, and encoding it for RabbitMQ
    /// (any publish or kick to that client) trapped on a force unwrap.
    @Test func clientIdStartingWithCombiningMarkEncodes() throws {
        let body = #"{"target":{"type":"client","user":"a","id":"\#u{0F75}"},"data":"x"}"#
        let publication = try PublicationCodec.decode(Array(body.utf8))
        #expect(publication.target.clientParts! == ("a", "\u{0F75}"))
        #expect(try PublicationCodec.decode(PublicationCodec.encode(publication), trusted: true) == publication)
    }

    /// The same, as the amqp target found it: a kick (or `POST /disconnect`) for that client.
    @Test func kickForClientIdStartingWithCombiningMarkEncodes() throws {
        let kick = try Kick.decode(Array(#"{"target":{"type":"client","user":"a","id":"\#u{0F75}"}}"#.utf8))
        #expect(try Kick.decode(kick.encode()) == kick)
    }

    /// A negative zero in `data` was written `-0` by the node that took the publication, which the next
    /// node reads as the integer 0: subscribers on different nodes got different data.
    @Test func negativeZeroInDataIsTheSameOnEveryNode() throws {
        let body = #"{"target":{"type":"broadcast"},"data":[-0e1,-0.0,{"a\"-0":-0.0},"-0",-0,-0.5,-1e-400]}"#
        let publication = try PublicationCodec.decode(Array(body.utf8))
        #expect(publication.data == .json(#"[0,0,{"a\"-0":0},"-0",0,-0.5,0]"#))
        #expect(try PublicationCodec.decode(PublicationCodec.encode(publication), trusted: true) == publication)
        let scalar = try PublicationCodec.decode(Array(#"{"target":{"type":"broadcast"},"data":-0.0}"#.utf8))
        #expect(scalar.data == .json("0"))
    }

    /// The presence target's bound on every query value: a `cursor` was decoded whatever its length, so
    /// a page could start after an "id" longer than any id (258 bytes here, and up to the whole request
    /// head), which went to Redis as the range's start.
    @Test func aPresenceCursorIsNoLongerThanTheLongestId() {
        let longest = Base64URL.encode(Array(repeating: UInt8(ascii: "x"), count: Identifier.maxLength))
        #expect(throws: PresenceQuery.Refusal.self) { try PresenceQuery(uri: "/presence/users?cursor=\(longest)QQ") }
        #expect(throws: PresenceQuery.Refusal.self) { try PresenceQuery(uri: "/presence/users?cursor=" + String(repeating: "eHh4", count: 4000)) }
    }
}
