import NIOCore
import NIOHTTP1
import Testing

@testable import SSEFanout

/// The parts of a send or upload that are read from outside bytes: its path, its query, its form.
@Suite struct SendRequestTests {
    @Test func aPathIsSafeCharactersInNonEmptySegmentsAndBecomesARoutingKey() {
        #expect(SendPath("chat/room-1")?.routingKey == "chat.room-1")
        #expect(SendPath("a-b_c~d")?.value == "a-b_c~d")
        #expect(SendPath(Substring(String(repeating: "a", count: 255))) != nil)
        // `a.b` would share `a/b`'s routing key, so no `.` at all.
        for bad in ["", "/chat", "chat/", "a//b", "a/../b", "..", ".", "a/./b", "a.b", "chat/room.1", "a b", "a%2Fb", "ü", "a?b", String(repeating: "a", count: 256)] {
            #expect(SendPath(Substring(bad)) == nil, "\(bad)")
        }
    }

    @Test func theQueryLosesItsTokenAndIdentityAndIsDecodedAsAForm() {
        let query = SendQuery(uri: "/send/x?a=1&token=secret&user=al%20ice&b=x+y%2Bz&a=2&flag#frag")
        #expect(query.raw == "a=1&b=x+y%2Bz&a=2&flag")
        #expect(query.items.map(\.name) == ["a", "b", "a", "flag"])
        #expect(query.items.map(\.value) == ["1", "x y+z", "2", ""])
        #expect(query.identity == ["user": "al ice"])
        #expect(SendQuery(uri: "/send/x").raw == "")
    }

    @Test func aContentDispositionsParametersAreUnquoted() {
        let parameters = UploadForm.parameters(of: #"form-data; name="file"; filename="a \"b\"; c.txt"; X=1"#)
        #expect(parameters == ["name": "file", "filename": #"a "b"; c.txt"#, "x": "1"])
        #expect(UploadForm.parameters(of: "form-data") == [:])
    }

    @Test func aFormCutShortIsRefused() throws {
        let body = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n2"
        #expect(throws: SendRefusal.self) { try UploadForm(body: ByteBuffer(string: body), boundary: "b") }
        let whole = try UploadForm(body: ByteBuffer(string: body + "\r\n--b--\r\n"), boundary: "b")
        #expect(whole.fields.map(\.value) == ["1", "2"])
    }

    @Test func oneUsersClaimKeyNeverSpellsAnothers() {
        let keys = RedisKeys()
        #expect(keys.send(tenant: "t", user: "a:b", key: "c") != keys.send(tenant: "t", user: "a", key: "b:c"))
        #expect(keys.send(tenant: "", user: "50%", key: "k") == "sse:send::50%25:k")
    }
}
