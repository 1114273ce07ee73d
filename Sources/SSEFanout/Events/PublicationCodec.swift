import Foundation

/// Reads and writes the publish JSON, the one format shared by `POST /publish` and AMQP producers:
/// `{"target": {"type": "...", "id": "...", "tenant": "..."}, "event": "name", "data": <string or JSON>, "id": "...",
/// "retry": 3000, "ephemeral": false}`, or `"targets": [...]` for several. Nodes add `position` (where the event
/// sits in its history stream) and `hops`; those are read only from a `trusted` source (another node), and
/// ignored in what producers send, so nobody outside can poison a resume token or turn off rerouting.
public enum PublicationCodec {
    /// Longest accepted target id, event name or event id, in UTF-8 bytes.
    public static let maxFieldLength = Identifier.maxLength

    public static func decode(_ bytes: some Collection<UInt8>, trusted: Bool = false) throws(PublicationError) -> Publication {
        try publication(from: parse(bytes), trusted: trusted)
    }

    /// A message body that holds one publish object, or a JSON array of them (a batch: what nodes send
    /// each other, and what producers may send), and whether it was an array. An error names the batch
    /// item it is about.
    public static func decodeBatch(
        _ bytes: some Collection<UInt8>, trusted: Bool = false, maxItems: Int = .max
    ) throws(PublicationError) -> (publications: [Publication], isArray: Bool) {
        let object = try parse(bytes)
        guard let items = object as? [Any] else { return ([try publication(from: object, trusted: trusted)], false) }
        guard !items.isEmpty else {
            throw PublicationError("empty_batch", "the array holds no publications")
        }
        guard items.count <= maxItems else {
            throw PublicationError("too_many_items", "the array holds \(items.count) publications; at most \(maxItems) are taken at once")
        }
        var publications: [Publication] = []
        publications.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                publications.append(try publication(from: item, trusted: trusted))
            } catch {
                throw PublicationError(error.code, "item \(index): \(error.message)")
            }
        }
        return (publications, true)
    }

    /// Publish JSON bodies as one message: the body itself when there is one, else a JSON array.
    public static func encodeBatch(_ bodies: [[UInt8]]) -> [UInt8] {
        if bodies.count == 1 { return bodies[0] }
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(bodies.reduce(2) { $0 + $1.count + 1 })
        for (index, body) in bodies.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: body)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    private static func parse(_ bytes: some Collection<UInt8>) throws(PublicationError) -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw PublicationError("invalid_json", "the body is not valid JSON")
        }
    }

    private static func publication(from object: Any, trusted: Bool) throws(PublicationError) -> Publication {
        guard let body = object as? [String: Any] else {
            throw PublicationError("invalid_body", "the body must be a JSON object (or an array of them)")
        }
        let targets = try decodeTargets(body["target"], body["targets"])
        guard let rawData = body["data"] else {
            throw PublicationError("missing_data", "'data' is required (a string, or any JSON value)")
        }
        let id = try field("id", body["id"])
        if id?.isEmpty == true {
            throw PublicationError("invalid_id", "'id' must not be empty (leave it out to have one assigned)")
        }
        let event = try field("event", body["event"])
        if !trusted, let event, reservedEvents.contains(event) {
            throw PublicationError(
                "reserved_event", "'event' may not be '\(event)': the node sends events by that name itself (\(reservedEvents.sorted().joined(separator: ", ")))")
        }
        var publication = Publication(
            targets: targets,
            event: event,
            data: try eventData(rawData),
            id: id,
            retry: try retry(body["retry"]),
            ephemeral: try flag("ephemeral", body["ephemeral"]),
            position: trusted ? try position(body["position"]) : nil,
            hops: trusted ? max(0, (body["hops"] as? NSNumber)?.intValue ?? 0) : 0
        )
        if trusted, let at = body["at"] as? NSNumber, at.int64Value > 0 { publication.acceptedAt = at.int64Value }
        return publication
    }

    /// The publish JSON for `publication`, as sent to RabbitMQ (compact, stable key order).
    public static func encode(_ publication: Publication) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + publication.data.byteCount)
        if publication.targets.count == 1 {
            out.append(contentsOf: #"{"target":"#.utf8)
            encodeTarget(publication.target, to: &out)
        } else {
            out.append(contentsOf: #"{"targets":["#.utf8)
            for (index, target) in publication.targets.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                encodeTarget(target, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        if let event = publication.event {
            out.append(contentsOf: #","event":"#.utf8)
            JSONString.append(event, to: &out)
        }
        if let id = publication.id {
            out.append(contentsOf: #","id":"#.utf8)
            JSONString.append(id, to: &out)
        }
        if let retry = publication.retry { out.append(contentsOf: #","retry":\#(retry)"#.utf8) }
        if publication.ephemeral { out.append(contentsOf: #","ephemeral":true"#.utf8) }
        if let position = publication.position { out.append(contentsOf: #","position":"\#(position)""#.utf8) }
        if publication.hops > 0 { out.append(contentsOf: #","hops":\#(publication.hops)"#.utf8) }
        if let at = publication.acceptedAt { out.append(contentsOf: #","at":\#(at)"#.utf8) }
        out.append(contentsOf: #","data":"#.utf8)
        switch publication.data {
        case .text(let text): JSONString.append(text, to: &out)
        case .json(let json): out.append(contentsOf: json.utf8)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func encodeTarget(_ target: Address, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"type":"#.utf8)
        JSONString.append(target.kind.rawValue, to: &out)
        switch target.kind {
        case .broadcast: break
        case .tenant:
            out.append(contentsOf: #","id":"#.utf8)
            JSONString.append(target.tenant, to: &out)
        case .client:
            let (user, id) = target.clientParts!
            out.append(contentsOf: #","user":"#.utf8)
            JSONString.append(user, to: &out)
            out.append(contentsOf: #","id":"#.utf8)
            JSONString.append(id, to: &out)
        default:
            out.append(contentsOf: #","id":"#.utf8)
            JSONString.append(target.id, to: &out)
        }
        if !target.tenant.isEmpty && target.kind != .tenant {
            out.append(contentsOf: #","tenant":"#.utf8)
            JSONString.append(target.tenant, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static let typeList = Address.Kind.allCases.map(\.rawValue).joined(separator: ", ")

    /// `target` (one object) or `targets` (an array of them, at most `Publication.maxTargets`); the
    /// same address twice counts once.
    private static func decodeTargets(_ target: Any?, _ targets: Any?) throws(PublicationError) -> [Address] {
        let single = target.flatMap { $0 is NSNull ? nil : $0 }
        let several = targets.flatMap { $0 is NSNull ? nil : $0 }
        switch (single, several) {
        case (let single?, nil):
            return [try decodeTarget(single, field: "target")]
        case (nil, let several?):
            guard let items = several as? [Any], !items.isEmpty, items.count <= Publication.maxTargets else {
                throw PublicationError("invalid_targets", "'targets' must be an array of 1 to \(Publication.maxTargets) target objects")
            }
            var seen = Set<Address>()
            var addresses: [Address] = []
            for (index, item) in items.enumerated() {
                let address = try decodeTarget(item, field: "targets[\(index)]")
                if seen.insert(address).inserted { addresses.append(address) }
            }
            return addresses
        case (nil, nil):
            throw PublicationError("missing_target", "'target' is required: {\"type\": \"\(typeList.replacingOccurrences(of: ", ", with: "|"))\", \"id\": \"...\"}")
        case (_?, _?):
            throw PublicationError("invalid_target", "give either 'target' or 'targets', not both")
        }
    }

    static func decodeTarget(_ value: Any, field: String) throws(PublicationError) -> Address {
        guard let target = value as? [String: Any] else {
            throw PublicationError("invalid_target", "'\(field)' must be an object with 'type' and 'id'")
        }
        guard let type = target["type"] as? String else {
            throw PublicationError("missing_target_type", "'\(field).type' is required: one of \(typeList)")
        }
        guard let kind = Address.Kind(rawValue: type) else {
            throw PublicationError("unknown_target_type", "'\(field).type' must be one of \(typeList); got '\(type.prefix(64))'")
        }
        if kind == .broadcast { return .broadcast }
        guard let rawID = target["id"], !(rawID is NSNull) else {
            throw PublicationError("missing_target_id", "'\(field).id' is required for target type '\(type)'")
        }
        guard let id = rawID as? String else {
            throw PublicationError("invalid_target_id", "'\(field).id' must be a string")
        }
        if kind == .tenant {
            do { try Identifier.validateTenant("\(field).id", id) } catch { throw PublicationError("invalid_target_id", error.message) }
            return .tenant(id)
        }
        do { try Identifier.validate("\(field).id", id) } catch { throw PublicationError("invalid_target_id", error.message) }
        var tenant = ""
        if let rawTenant = target["tenant"], !(rawTenant is NSNull) {
            guard kind != .connection else {
                throw PublicationError("invalid_tenant", "'\(field).tenant' does not apply to a connection (its id is unique)")
            }
            guard let text = rawTenant as? String else { throw PublicationError("invalid_tenant", "'\(field).tenant' must be a string") }
            try Identifier.validateTenant("\(field).tenant", text)
            tenant = text
        }
        switch kind {
        case .connection: return .connection(id)
        case .user: return .user(id, tenant: tenant)
        case .session: return .session(id, tenant: tenant)
        case .channel: return .channel(id, tenant: tenant)
        case .client:
            guard let user = target["user"] as? String else {
                throw PublicationError("missing_target_user", "'\(field).user' is required for target type 'client' (the device's user)")
            }
            do { try Identifier.validate("\(field).user", user) } catch { throw PublicationError("invalid_target_user", error.message) }
            return .client(user: user, id: id, tenant: tenant)
        case .tenant, .broadcast: preconditionFailure("handled above")
        }
    }

    /// `event` and `id` become single SSE lines: CR, LF and NUL would break the framing.
    private static func field(_ name: String, _ value: Any?) throws(PublicationError) -> String? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String else {
            throw PublicationError("invalid_\(name)", "'\(name)' must be a string")
        }
        try SSEEncoder.validateField(name, text)
        return text
    }

    private static func retry(_ value: Any?) throws(PublicationError) -> Int? {
        guard let value, !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !(value is Bool), let retry = Int(exactly: number.doubleValue), (0...maxRetry).contains(retry) else {
            throw PublicationError("invalid_retry", "'retry' must be a whole number of milliseconds from 0 to \(maxRetry) (an hour)")
        }
        return retry
    }

    /// Event names the node sends itself and the served client acts on (a stream opening, a kick, a
    /// token running out, a resume that cannot be served, a node closing it): a publisher may not forge them.
    public static let reservedEvents: Set<String> = ["connected", "disconnect", "expired", "reset", "close"]

    /// The longest `retry` a publisher may set: an hour. A client told to wait longer would look dead.
    public static let maxRetry = 3_600_000

    private static func flag(_ name: String, _ value: Any?) throws(PublicationError) -> Bool {
        guard let value, !(value is NSNull) else { return false }
        guard let flag = value as? Bool else {
            throw PublicationError("invalid_\(name)", "'\(name)' must be true or false")
        }
        return flag
    }

    private static func position(_ value: Any?) throws(PublicationError) -> StreamPosition? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String, let position = StreamPosition(text) else {
            throw PublicationError("invalid_position", "'position' must be a stream position like \"1700000000000-0\"")
        }
        return position
    }

    private static func eventData(_ value: Any) throws(PublicationError) -> EventData {
        if let text = value as? String { return .text(text) }
        do {
            let json = try JSONSerialization.data(
                withJSONObject: value,
                options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]
            )
            return .json(String(decoding: withoutNegativeZeros(json), as: UTF8.self))
        } catch {
            throw PublicationError("invalid_data", "'data' could not be encoded as JSON")
        }
    }

    /// JSONSerialization writes a negative zero (`-0.0`, `-0e1`) as `-0`, which it reads back as the
    /// integer 0: the data would be `-0` on the node that took the publication and `0` on every node it
    /// travels to. Such numbers are written `0`. (The writer's output is compact: outside strings, a `-`
    /// starts a number.)
    static func withoutNegativeZeros(_ json: Data) -> Data {
        guard json.contains(UInt8(ascii: "-")) else { return json }
        var out = Data()
        var copiedUpTo = json.startIndex
        var inString = false
        var escaped = false
        var index = json.startIndex
        while index < json.endIndex {
            let byte = json[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "-"), index + 1 < json.endIndex, json[index + 1] == UInt8(ascii: "0"),
                index + 2 == json.endIndex || [UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}")].contains(json[index + 2])
            {
                out.append(json[copiedUpTo..<index])
                copiedUpTo = index + 1
            }
            index += 1
        }
        guard copiedUpTo != json.startIndex else { return json }
        out.append(json[copiedUpTo...])
        return out
    }

}
