import Testing

@testable import SSEFanout

@Suite struct PublicationCodecTests {
    private func decode(_ json: String) throws(PublicationError) -> Publication {
        try PublicationCodec.decode(Array(json.utf8))
    }

    private func code(_ json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func decodesEachTargetType() throws {
        #expect(try decode(#"{"target":{"type":"user","id":"alice"},"data":"hi"}"#).target == .user("alice"))
        #expect(try decode(#"{"target":{"type":"connection","id":"c1"},"data":"hi"}"#).target == .connection("c1"))
        #expect(try decode(#"{"target":{"type":"channel","id":"news"},"data":"hi"}"#).target == .channel("news"))
        #expect(try decode(#"{"target":{"type":"broadcast"},"data":"hi"}"#).target == .broadcast)
        #expect(try decode(#"{"target":{"type":"session","id":"s1"},"data":"hi"}"#).target == .session("s1"))
        #expect(try decode(#"{"target":{"type":"tenant","id":"acme"},"data":"hi"}"#).target == .tenant("acme"))
        #expect(try decode(#"{"target":{"type":"client","user":"alice","id":"phone"},"data":"hi"}"#).target == .client(user: "alice", id: "phone"))
    }

    @Test func aTenantScopesUserSessionClientAndChannel() throws {
        #expect(try decode(#"{"target":{"type":"user","id":"alice","tenant":"a"},"data":"x"}"#).target == .user("alice", tenant: "a"))
        #expect(try decode(#"{"target":{"type":"user","id":"alice","tenant":"a"},"data":"x"}"#).target != .user("alice", tenant: "b"))
        #expect(try decode(#"{"target":{"type":"channel","id":"n","tenant":"a"},"data":"x"}"#).target == .channel("n", tenant: "a"))
        #expect(try decode(#"{"target":{"type":"client","user":"u","id":"d","tenant":"a"},"data":"x"}"#).target == .client(user: "u", id: "d", tenant: "a"))
        #expect(code(#"{"target":{"type":"connection","id":"c","tenant":"a"},"data":"x"}"#) == "invalid_tenant")
        #expect(code(#"{"target":{"type":"user","id":"u","tenant":"a:b"},"data":"x"}"#) == "invalid_tenant")
        #expect(code(#"{"target":{"type":"tenant","id":"has space"},"data":"x"}"#) == "invalid_target_id")
        #expect(code(#"{"target":{"type":"client","id":"d"},"data":"x"}"#) == "missing_target_user")
    }

    @Test func severalTargetsAreOnePublicationWithoutRepeats() throws {
        let p = try decode(#"{"targets":[{"type":"user","id":"a"},{"type":"channel","id":"n"},{"type":"user","id":"a"}],"data":"x"}"#)
        #expect(p.targets == [.user("a"), .channel("n")])
        #expect(p.legs.map(\.targets) == [[.user("a")], [.channel("n")]])
        #expect(code(#"{"targets":[],"data":"x"}"#) == "invalid_targets")
        #expect(code(#"{"target":{"type":"broadcast"},"targets":[{"type":"broadcast"}],"data":"x"}"#) == "invalid_target")
        let tooMany = (0...Publication.maxTargets).map { #"{"type":"user","id":"u\#($0)"}"# }.joined(separator: ",")
        #expect(code(#"{"targets":[\#(tooMany)],"data":"x"}"#) == "invalid_targets")
        let back = try PublicationCodec.decode(PublicationCodec.encode(p))
        #expect(back == p)
    }

    @Test func anArrayOverTheItemLimitIsRefusedWhole() throws {
        let item = #"{"target":{"type":"user","id":"a"},"data":"x"}"#
        let three = Array("[\(item),\(item),\(item)]".utf8)
        #expect(throws: PublicationError("too_many_items", "the array holds 3 publications; at most 2 are taken at once")) {
            try PublicationCodec.decodeBatch(three, maxItems: 2)
        }
        #expect(try PublicationCodec.decodeBatch(three, maxItems: 3).publications.count == 3)
    }

    @Test func fieldsOnlyNodesSetAreIgnoredUnlessTrusted() throws {
        let forged = Array(#"{"target":{"type":"user","id":"a"},"data":"x","position":"99999999999999-0","hops":7}"#.utf8)
        let fromProducer = try PublicationCodec.decode(forged)
        #expect(fromProducer.position == nil)
        #expect(fromProducer.hops == 0)
        let fromNode = try PublicationCodec.decode(forged, trusted: true)
        #expect(fromNode.position == StreamPosition("99999999999999-0"))
        #expect(fromNode.hops == 7)
        #expect(try PublicationCodec.decodeBatch(forged).publications[0].position == nil)
    }

    @Test func idsWithControlCharactersAndEmptyEventIDsAreRefused() {
        #expect(code(#"{"target":{"type":"user","id":"a\u0000b"},"data":"x"}"#) == "invalid_target_id")
        #expect(code(#"{"target":{"type":"channel","id":"a\r\nb"},"data":"x"}"#) == "invalid_target_id")
        #expect(code(#"{"target":{"type":"user","id":"a"},"data":"x","id":""}"#) == "invalid_id")
    }

    @Test func keepsOptionalFields() throws {
        let p = try decode(#"{"target":{"type":"user","id":"a"},"event":"chat","data":"x","id":"e-1","retry":1000}"#)
        #expect(p.event == "chat")
        #expect(p.id == "e-1")
        #expect(p.retry == 1000)
        #expect(p.data == .text("x"))
    }

    @Test func stringDataStaysTextOtherJSONBecomesCompactJSON() throws {
        #expect(try decode(#"{"target":{"type":"broadcast"},"data":"{\"a\": 1}"}"#).data == .text(#"{"a": 1}"#))
        #expect(try decode(#"{"target":{"type":"broadcast"},"data":{ "b" : [1, 2.5, true, null], "a": {"x":"y"} }}"#).data == .json(#"{"a":{"x":"y"},"b":[1,2.5,true,null]}"#))
        #expect(try decode(#"{"target":{"type":"broadcast"},"data":42}"#).data == .json("42"))
        #expect(try decode(#"{"target":{"type":"broadcast"},"data":null}"#).data == .json("null"))
    }

    @Test func refusesBadInputWithItsOwnCode() {
        #expect(code("not json") == "invalid_json")
        #expect(code("[1,2]") == "invalid_body")
        #expect(code(#"{"data":"x"}"#) == "missing_target")
        #expect(code(#"{"target":"user","data":"x"}"#) == "invalid_target")
        #expect(code(#"{"target":{"id":"a"},"data":"x"}"#) == "missing_target_type")
        #expect(code(#"{"target":{"type":"galaxy","id":"a"},"data":"x"}"#) == "unknown_target_type")
        #expect(code(#"{"target":{"type":"user"},"data":"x"}"#) == "missing_target_id")
        #expect(code(#"{"target":{"type":"connection","id":""},"data":"x"}"#) == "invalid_target_id")
        #expect(code(#"{"target":{"type":"channel","id":5},"data":"x"}"#) == "invalid_target_id")
        #expect(code(#"{"target":{"type":"user","id":"a"}}"#) == "missing_data")
        #expect(code(#"{"target":{"type":"user","id":"a"},"data":"x","event":"a\nb"}"#) == "invalid_event")
        #expect(code(#"{"target":{"type":"user","id":"a"},"data":"x","id":"a\rb"}"#) == "invalid_id")
        #expect(code(#"{"target":{"type":"user","id":"a"},"data":"x","id":"a\u0000b"}"#) == "invalid_id")
        #expect(code(#"{"target":{"type":"user","id":"a"},"data":"x","event":7}"#) == "invalid_event")
        #expect(code(#"{"target":{"type":"user","id":"a"},"data":"x","retry":-1}"#) == "invalid_retry")
        #expect(code(#"{"target":{"type":"user","id":"a"},"data":"x","retry":"soon"}"#) == "invalid_retry")
    }

    @Test func encodeThenDecodeIsIdentity() throws {
        let publications = [
            Publication(target: .user("al\"ice"), event: "e", data: .text("line\nline"), id: "1", retry: 5),
            Publication(target: .broadcast, data: .json(#"{"a":[1,2]}"#)),
            Publication(target: .channel("news/eu"), data: .text("ünï")),
            Publication(target: .connection("c"), event: nil, data: .json("null"), id: nil),
        ]
        for publication in publications {
            #expect(try PublicationCodec.decode(PublicationCodec.encode(publication)) == publication)
        }
    }

    @Test func assignsAnIdOnlyWhenMissing() {
        let given = Publication(target: .broadcast, data: .text("x"), id: "mine")
        #expect(given.withID { "new" }.id == "mine")
        #expect(Publication(target: .broadcast, data: .text("x")).withID { "new" }.id == "new")
    }

    @Test func serverIdsAreUniqueAndTimeOrdered() {
        let ids = (0..<1000).map { _ in EventIDGenerator.next() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.utf8.count == 26 })
        let first = EventIDGenerator.next()
        let later = EventIDGenerator.next()
        #expect(first.prefix(9) <= later.prefix(9))
    }

    /// The served client acts on these names, so a publisher may not send them; nor an absurd `retry`.
    @Test func reservedEventNamesAndOverlongRetriesAreRefused() throws {
        for name in ["connected", "disconnect", "expired", "reset", "close"] {
            let body = #"{"target": {"type": "user", "id": "a"}, "event": "\#(name)", "data": "x"}"#
            let error = #expect(throws: PublicationError.self) { try PublicationCodec.decode(Array(body.utf8)) }
            #expect(error?.code == "reserved_event")
        }
        #expect(try PublicationCodec.decode(Array(#"{"target": {"type": "user", "id": "a"}, "event": "closed", "data": "x"}"#.utf8)).event == "closed")
        #expect(try PublicationCodec.decode(Array(#"{"target": {"type": "user", "id": "a"}, "retry": 3600000, "data": "x"}"#.utf8)).retry == 3_600_000)
        for retry in ["3600001", "1000000000000000"] {
            let body = #"{"target": {"type": "user", "id": "a"}, "retry": \#(retry), "data": "x"}"#
            let error = #expect(throws: PublicationError.self) { try PublicationCodec.decode(Array(body.utf8)) }
            #expect(error?.code == "invalid_retry")
        }
    }
}
