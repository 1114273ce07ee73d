import Foundation
import Testing

@testable import SSEFanout

/// What each kind declares (`Address+Kind.swift`) is what the registry script, the codec and the
/// lifecycle events do with it: the promise that a new kind needs its declarations and nothing more.
@Suite struct AddressKindTests {
    @Test func aKindWithOccupancyEventsIsIndexed() {
        for kind in Address.Kind.allCases where kind.occupancyEvents != nil {
            #expect(kind.presence.contains(.indexed), "\(kind): its connections are what is counted")
        }
        for kind in Address.Kind.allCases where kind.eventField != nil {
            #expect(kind.field?.several == true, "\(kind): only kinds a connection holds several of name one in an event")
        }
    }

    @Test func theScriptsTableIsTheDeclarations() {
        #expect(RegistryScript.source.contains("local KINDS = \(RegistryScript.kindTable)"))
        for kind in Address.Kind.allCases {
            var flags = ""
            if kind.presence.contains(.indexed) { flags += "i" }
            if kind.presence.contains(.listsUsers) { flags += "u" }
            if kind.occupancyEvents != nil { flags += "f" }
            #expect(RegistryScript.kindTable.contains("\(kind.rawValue)='") == !flags.isEmpty, "\(kind)")
            if !flags.isEmpty { #expect(RegistryScript.kindTable.contains("\(kind.rawValue)='\(flags)'"), "\(kind)") }
        }
        #expect(RegistryScript.kindTable.contains("user='if'") && RegistryScript.kindTable.contains("channel='iuf'"))
    }

    @Test func everyKeyReadsBackAsItsAddress() {
        let addresses: [Address] = [
            .connection("c1"), .user("alice"), .user("al:ice", tenant: "acme"), .session("s1", tenant: "acme"),
            .client(user: "a/b%c", id: "ph/one", tenant: "acme"), .client(user: "alice", id: "phone"), .tenant("acme"),
            .channel("news"), .channel("a:b/c", tenant: "t.1"), .broadcast,
        ]
        for address in addresses {
            #expect(Address(key: address.key) == address, "\(address.key)")
        }
        for text in ["", "nope:x", "user", "user:", "user@:x", "tenant@", "tenant@acme:x", "broadcast:x", "@acme:x"] {
            #expect(Address(key: text) == nil, "\(text)")
        }
        #expect(Address.client(user: "a/b", id: "ph/one").name == "ph/one")
        #expect(Address.tenant("acme").name == "acme")
    }

    private let record = ConnectionRecord(
        connectionID: "c1", nodeID: "n1", connectedAt: 5, expiresAt: 9,
        addresses: ConnectionRecord.addresses(user: "alice", clientID: "ph/one", session: "s1", tenant: "acme", channels: ["news", "a/b"]))

    @Test func theRegistrysHashReadsBackAsTheRecord() {
        let fields = ConnectionCodec.hashFields(record)
        #expect(ConnectionCodec.record(id: "c1", fields: fields) == record)
        var hash: [String: String] = [:]
        for index in stride(from: 0, to: fields.count, by: 2) { hash[fields[index]] = fields[index + 1] }
        #expect(hash["addresses"] == #"["user@acme:alice","client@acme:alice/ph%2Fone","session@acme:s1","tenant@acme","channel@acme:news","channel@acme:a/b"]"#)
        // A hash of the previous release: no addresses, no expiry.
        hash["addresses"] = nil
        hash["expiresAt"] = nil
        var previous = record
        previous.expiresAt = nil
        #expect(ConnectionCodec.record(id: "c1", hash: hash) == previous)
        #expect(ConnectionCodec.record(id: "c1", hash: ["user": "alice"]) == nil, "a hash without a node is no record")
    }

    private func identity(_ addresses: [Address], tenant: String, absent: ConnectionCodec.Absent) throws -> [String: Any] {
        var json = #"{"id":1"#
        ConnectionCodec.appendIdentity(addresses, tenant: tenant, absent: absent, to: &json)
        json += "}"
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func theJSONHasAFieldPerDeclaredKind() throws {
        let full = try identity(record.addresses, tenant: "acme", absent: .omitted)
        #expect(full as NSDictionary == [
            "id": 1, "tenant": "acme", "user": "alice", "session": "s1", "clientId": "ph/one", "channels": ["news", "a/b"],
        ] as NSDictionary)
        let anonymous = try identity([], tenant: "", absent: .omitted)
        #expect(anonymous as NSDictionary == ["id": 1, "tenant": "", "channels": [String]()] as NSDictionary)
        let nulls = try identity([], tenant: "", absent: .null)
        #expect(nulls["user"] is NSNull && nulls["session"] is NSNull && nulls["clientId"] is NSNull)
    }

    @Test func aSendersHeadersNameWhatItHas() {
        let headers = ConnectionCodec.senderHeaders(record.addresses, tenant: "acme", connectionID: "c1")
        #expect(headers.map { "\($0.name)=\($0.value)" } == [
            "X-SSE-Connection=c1", "X-SSE-User=alice", "X-SSE-Session=s1", "X-SSE-Client=ph/one", "X-SSE-Tenant=acme",
        ])
        #expect(ConnectionCodec.senderHeaders([], tenant: "", connectionID: nil).map(\.name) == ["X-SSE-Tenant"])
        // A sender without a user (authentication off) still names its device.
        let anonymous = SendIdentity(user: nil, tenant: "", session: nil, clientID: "tab-1")
        #expect(anonymous.headers.map { "\($0.name)=\($0.value)" } == ["X-SSE-Client=tab-1", "X-SSE-Tenant="])
    }
}
