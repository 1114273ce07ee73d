// `GET /presence/...` request URIs (path and query, as in the request line): PresenceQuery, then the
// answer PresenceRoutes gives from an in-process registry holding a few connections, as a full key,
// as a tenant's key and as tokens with and without a tenant. Every value taken from the query keeps to
// its rule and bound; every answer is JSON, an error one with its code; a confined caller is never
// answered 200 about another tenant.
import Dispatch
import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1

@testable import SSEFanout

let registry: InProcessRegistry = {
    let registry = InProcessRegistry()
    let records = [
        ConnectionRecord(connectionID: "c1", nodeID: "n1", connectedAt: 10, addresses: ConnectionRecord.addresses(user: "bob", clientID: "phone", session: "s1", channels: ["news"])),
        ConnectionRecord(connectionID: "c2", nodeID: "n2", connectedAt: 20, addresses: ConnectionRecord.addresses(user: "al/ice", channels: ["news", "é"])),
        ConnectionRecord(connectionID: "c3", nodeID: "n1", connectedAt: 30, addresses: ConnectionRecord.addresses(user: "carol\u{2028}", tenant: "acme")),
        ConnectionRecord(connectionID: "c4", nodeID: "n1", connectedAt: 40, addresses: ConnectionRecord.addresses(user: nil, channels: ["news"])),
    ]
    run { for record in records { _ = try? await registry.register(record, joined: record.addresses) } }
    return registry
}()

func requireValid(_ query: PresenceQuery, confinedTenant: String?) {
    require((1...PresenceRoutes.maxLimit).contains(query.limit), "limit out of range")
    require(query.tenant.isEmpty || Identifier.isTenant(query.tenant), "invalid tenant")
    if let confinedTenant { require(query.tenant == confinedTenant, "a confined caller asked about another tenant") }
    var ids = [query.user, query.session, query.channel].compactMap { $0 }
    if case .user(let user) = query.listing { ids.append(user) }
    for id in ids {
        require(!id.isEmpty && id.utf8.count <= Identifier.maxLength, "identifier length out of range")
        require(!id.unicodeScalars.contains { $0.properties.generalCategory == .control }, "control character in an identifier")
    }
    if let cursor = query.cursor { require(!cursor.isEmpty && cursor.utf8.count <= Identifier.maxLength, "cursor out of range") }
}

func requireJSON(_ status: HTTPResponseStatus, _ body: [UInt8]) {
    guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
        fatalError("the answer is not a JSON object: \(String(decoding: body, as: UTF8.self))")
    }
    if status != .ok { require(object["error"] is String && object["message"] is String, "an error answer without its code") }
}

let credentials: [PublisherCredential] = [
    .apiKey, .tenantKey("acme"),
    .token(VerifiedClaims(user: "svc", publish: PublishGrant(patterns: ["user:bob", "channel:news"]), expiresAt: 0)),
    .token(VerifiedClaims(user: "svc", tenant: "acme", publish: PublishGrant(patterns: ["*"]), expiresAt: 0)),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let uri = text(start, count)
    for credential in credentials {
        let confinedTenant = credential.confinedTenant
        var query: PresenceQuery?
        do {
            query = try PresenceQuery(uri: uri, confinedTenant: confinedTenant)
            requireValid(query!, confinedTenant: confinedTenant)
        } catch {
            require([.badRequest, .forbidden, .notFound].contains(error.status), "refused with \(error.status)")
            require(!error.error.code.isEmpty, "refused without a code")
        }
        let (status, body) = run { await PresenceRoutes.answer(uri: uri, presence: registry, credential: credential) }
        requireJSON(status, body)
        if status == .ok, let confinedTenant, let query { require(query.tenant == confinedTenant, "answered about another tenant") }
    }
    return 0
}
