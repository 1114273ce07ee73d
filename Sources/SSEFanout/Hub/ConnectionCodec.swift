import Foundation

/// A connection's identity wherever it leaves the process: the registry's hash (written by
/// `RegistryScript`, read back by presence and the reaper), the JSON of the `connected` event,
/// presence answers, lifecycle events and browsers' sends, and the headers that name a send's sender. Each is written from `ConnectionRecord.addresses` by the
/// declarations on `Address.Kind`, so a new kind reaches all of them without a change here.
enum ConnectionCodec {
    /// How a JSON field of a kind the connection has no address of is written.
    enum Absent {
        /// Left out (`connected`, lifecycle events).
        case omitted
        /// `null` (presence answers: every connection has every field).
        case null
    }

    // MARK: - JSON

    /// `,"tenant":…` then a field per kind with one (`Address.Kind.field`): `,"user":…,"session":…,
    /// "clientId":…,"channels":[…]`. Each field starts with a comma: the caller has written one before.
    /// `without` leaves out the fields of those kinds.
    static func appendIdentity(
        _ addresses: [Address], tenant: String, absent: Absent, without: Set<Address.Kind> = [], to json: inout String
    ) {
        json += #","tenant":"#
        JSONString.append(tenant, to: &json)
        for kind in Address.Kind.allCases where !without.contains(kind) {
            guard let field = kind.field else { continue }
            if field.several {
                appendKey(field.name, to: &json)
                JSONString.appendArray(addresses.compactMap { $0.kind == kind ? $0.name : nil }, to: &json)
            } else if let address = addresses.first(where: { $0.kind == kind }) {
                appendKey(field.name, to: &json)
                JSONString.append(address.name, to: &json)
            } else if absent == .null {
                appendKey(field.name, to: &json)
                json += "null"
            }
        }
    }

    /// The kinds a connection holds several of: left out of events about one of them.
    static let severalKinds = Set(Address.Kind.allCases.filter { $0.field?.several == true })

    /// `,"name":` for one of our own field names (plain ASCII: nothing to escape).
    private static func appendKey(_ name: String, to json: inout String) {
        json += #",""#
        json += name
        json += #"":"#
    }

    // MARK: - A sender's headers

    /// Who sent a browser's send or upload, as the backend is told (`Address.Kind.senderHeader`): the
    /// sender's user, session, device, tenant ("" for the default one) and connection, those it has.
    static func senderHeaders(_ addresses: [Address], tenant: String, connectionID: String?) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for kind in Address.Kind.allCases {
            guard let name = kind.senderHeader else { continue }
            switch kind {
            case .tenant: headers.append((name, tenant))
            case .connection: if let connectionID { headers.append((name, connectionID)) }
            default: if let address = addresses.first(where: { $0.kind == kind }) { headers.append((name, address.name)) }
            }
        }
        return headers
    }

    // MARK: - The registry's hash

    /// The fields of `sse:conn:<id>` as `HSET` takes them, name then value: `node`, `connectedAt`,
    /// `expiresAt` when there is one, `tenant`, `addresses` (a JSON array of `Address.key`s), and the
    /// `previousReleaseFields`.
    static func hashFields(_ record: ConnectionRecord) -> [String] {
        var keys = ""
        JSONString.appendArray(record.addresses.map(\.key), to: &keys)
        var fields = ["node", record.nodeID, "connectedAt", String(record.connectedAt), "tenant", record.tenant, "addresses", keys]
        if let expiresAt = record.expiresAt { fields += ["expiresAt", String(expiresAt)] }
        return fields + previousReleaseFields(record)
    }

    /// The fields a node of the previous release reads a connection by (when it reaps a dead node's, or
    /// lists presence), written beside `addresses` so that a cluster in a rolling upgrade stays whole.
    /// A hash without `addresses` is read back from them.
    private static func previousReleaseFields(_ record: ConnectionRecord) -> [String] {
        // What JSONEncoder wrote (slashes escaped), as those nodes wrote it.
        var channels = ""
        JSONString.appendArray(record.channels, to: &channels, escapingSlashes: true)
        return ["user", record.user ?? "", "session", record.session ?? "", "clientId", record.clientID ?? "", "channels", channels]
    }

    /// The record a connection's hash holds (`HGETALL`, as name → value), or nil when it has none.
    static func record(id: String, hash: [String: String]) -> ConnectionRecord? {
        guard let node = hash["node"], !node.isEmpty else { return nil }
        let tenant = hash["tenant"] ?? ""
        let addresses: [Address]
        if let keys = hash["addresses"] {
            addresses = strings(keys).compactMap(Address.init(key:))
        } else {
            addresses = previousReleaseAddresses(hash, tenant: tenant)
        }
        return ConnectionRecord(
            connectionID: id, nodeID: node, connectedAt: hash["connectedAt"].flatMap { Int64($0) } ?? 0,
            expiresAt: hash["expiresAt"].flatMap { Int64($0) }, addresses: addresses)
    }

    /// The hash as `HGETALL` answers it: names and values in turn.
    static func record(id: String, fields: [String]) -> ConnectionRecord? {
        var hash: [String: String] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) { hash[fields[index]] = fields[index + 1] }
        return record(id: id, hash: hash)
    }

    private static func previousReleaseAddresses(_ hash: [String: String], tenant: String) -> [Address] {
        let text = { (name: String) in hash[name].flatMap { $0.isEmpty ? nil : $0 } }
        return ConnectionRecord.addresses(
            user: text("user"), clientID: text("clientId"), session: text("session"), tenant: tenant, channels: strings(hash["channels"] ?? "[]"))
    }

    /// A JSON array of strings; none when it is not one.
    private static func strings(_ json: String) -> [String] {
        guard json != "[]" else { return [] }
        return (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
    }
}
