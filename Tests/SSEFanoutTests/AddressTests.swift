import Testing

@testable import SSEFanout

@Suite struct AddressTests {
    @Test func keysNameKindTenantAndIdUnambiguously() {
        #expect(Address.user("alice").key == "user:alice")
        #expect(Address.user("alice", tenant: "acme").key == "user@acme:alice")
        #expect(Address.tenant("acme").key == "tenant@acme")
        #expect(Address.broadcast.key == "broadcast")
        #expect(Address.channel("news/eu", tenant: "a").key == "channel@a:news/eu")
        // A user id with a slash cannot pose as another user's device.
        #expect(Address.client(user: "a/b", id: "c") != Address.client(user: "a", id: "b/c"))
        #expect(Address.client(user: "a/b", id: "c").key != Address.client(user: "a", id: "b/c").key)
        #expect(Address.client(user: "a/b%", id: "c").clientParts! == ("a/b%", "c"))
    }

    /// The `/` between a client's user and id is found by bytes, not Characters: a combining mark after
    /// it, or a prepended mark before it (U+0600), makes it part of a larger Character.
    @Test func clientPartsSplitWhateverCharactersSurroundTheSlash() {
        let pairs = [
            ("a", "\u{0301}x"), ("a\u{0600}", "x"), ("a/\u{0301}", "%\u{0301}"), ("%2F", "%25/"), ("\u{0600}/", "/\u{0301}"),
        ]
        for (user, id) in pairs {
            #expect(Address.client(user: user, id: id).clientParts! == (user, id), "\(user) \(id)")
        }
        #expect(Address.client(user: "a/\u{0301}", id: "x") != Address.client(user: "a", id: "\u{0301}/x"))
        #expect(Address.client(user: "a\u{0600}/", id: "x").key != Address.client(user: "a\u{0600}", id: "/x").key)
    }

    @Test func sameIdInTwoTenantsIsTwoAddresses() {
        #expect(Address.user("alice", tenant: "a") != Address.user("alice", tenant: "b"))
        #expect(Address.user("alice", tenant: "a").key != Address.user("alice", tenant: "b").key)
    }

    @Test func aConnectionAnswersToEachOfItsAddresses() {
        let record = ConnectionRecord(connectionID: "c1", nodeID: "n", connectedAt: 0, addresses: ConnectionRecord.addresses(user: "alice", clientID: "phone", session: "s1", tenant: "acme", channels: ["news"]))
        #expect(record.addresses == [
            .user("alice", tenant: "acme"), .client(user: "alice", id: "phone", tenant: "acme"), .session("s1", tenant: "acme"),
            .tenant("acme"), .channel("news", tenant: "acme"),
        ])
        // Every stream it reads has its own tag in the resume token.
        #expect(Set(record.streams.map(\.tag)).count == record.streams.count)
        #expect(record.streams.contains(.broadcast))
        let anonymous = ConnectionRecord(connectionID: "c2", nodeID: "n", connectedAt: 0, addresses: ConnectionRecord.addresses(user: nil, clientID: "phone"))
        #expect(anonymous.addresses.isEmpty)
    }

    @Test func historyKeepsEveryKindButConnections() {
        #expect(!Address.connection("c").isKept)
        for kind in [Address.user("u"), .session("s"), .client(user: "u", id: "d"), .tenant("t"), .channel("c"), .broadcast] {
            #expect(kind.isKept)
        }
    }
}
