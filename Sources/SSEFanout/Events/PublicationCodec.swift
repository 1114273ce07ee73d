import Foundation

/// Reads and writes the publish JSON, the one format shared by `POST /publish` and AMQP producers:
/// `{"target": {"type": "...", "id": "..."}, "event": "name", "data": <string or JSON>, "id": "...", "retry": 3000,
/// "ephemeral": false}`. Nodes add `position` (where the event sits in its history stream) and `hops`.
public enum PublicationCodec {
    /// Longest accepted target id, event name or event id, in UTF-8 bytes.
    public static let maxFieldLength = 256

    public static func decode(_ bytes: some Collection<UInt8>) throws(PublicationError) -> Publication {
        try publication(from: parse(bytes))
    }

    /// A message body that holds one publish object, or a JSON array of them (a batch: what nodes send
    /// each other, and what producers may send), and whether it was an array. An error names the batch
    /// item it is about.
    public static func decodeBatch(_ bytes: some Collection<UInt8>) throws(PublicationError) -> (publications: [Publication], isArray: Bool) {
        let object = try parse(bytes)
        guard let items = object as? [Any] else { return ([try publication(from: object)], false) }
        guard !items.isEmpty else {
            throw PublicationError("empty_batch", "the array holds no publications")
        }
        var publications: [Publication] = []
        publications.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                publications.append(try publication(from: item))
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

    private static func publication(from object: Any) throws(PublicationError) -> Publication {
        guard let body = object as? [String: Any] else {
            throw PublicationError("invalid_body", "the body must be a JSON object (or an array of them)")
        }
        let target = try decodeTarget(body["target"])
        guard let rawData = body["data"] else {
            throw PublicationError("missing_data", "'data' is required (a string, or any JSON value)")
        }
        return Publication(
            target: target,
            event: try field("event", body["event"]),
            data: try eventData(rawData),
            id: try field("id", body["id"]),
            retry: try retry(body["retry"]),
            ephemeral: try flag("ephemeral", body["ephemeral"]),
            position: try position(body["position"]),
            hops: (body["hops"] as? NSNumber)?.intValue ?? 0
        )
    }

    /// The publish JSON for `publication`, as sent to RabbitMQ (compact, stable key order).
    public static func encode(_ publication: Publication) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + publication.data.byteCount)
        out.append(contentsOf: #"{"target":{"type":"#.utf8)
        JSONString.append(publication.target.typeName, to: &out)
        if let id = publication.target.id {
            out.append(contentsOf: #","id":"#.utf8)
            JSONString.append(id, to: &out)
        }
        out.append(UInt8(ascii: "}"))
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
        out.append(contentsOf: #","data":"#.utf8)
        switch publication.data {
        case .text(let text): JSONString.append(text, to: &out)
        case .json(let json): out.append(contentsOf: json.utf8)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func decodeTarget(_ value: Any?) throws(PublicationError) -> Target {
        guard let value, !(value is NSNull) else {
            throw PublicationError("missing_target", "'target' is required: {\"type\": \"connection|user|channel|broadcast\", \"id\": \"...\"}")
        }
        guard let target = value as? [String: Any] else {
            throw PublicationError("invalid_target", "'target' must be an object with 'type' and 'id'")
        }
        guard let type = target["type"] as? String else {
            throw PublicationError("missing_target_type", "'target.type' is required: one of \(Target.typeNames.joined(separator: ", "))")
        }
        if type == "broadcast" { return .broadcast }
        guard Target.typeNames.contains(type) else {
            throw PublicationError("unknown_target_type", "'target.type' must be one of \(Target.typeNames.joined(separator: ", ")); got '\(type)'")
        }
        guard let rawID = target["id"], !(rawID is NSNull) else {
            throw PublicationError("missing_target_id", "'target.id' is required for target type '\(type)'")
        }
        guard let id = rawID as? String, !id.isEmpty, id.utf8.count <= maxFieldLength else {
            throw PublicationError("invalid_target_id", "'target.id' must be a non-empty string of at most \(maxFieldLength) bytes")
        }
        switch type {
        case "connection": return .connection(id)
        case "user": return .user(id)
        default: return .channel(id)
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
        guard let number = value as? NSNumber, !(value is Bool), let retry = Int(exactly: number.doubleValue), retry >= 0 else {
            throw PublicationError("invalid_retry", "'retry' must be a non-negative integer (milliseconds)")
        }
        return retry
    }

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
            return .json(String(decoding: json, as: UTF8.self))
        } catch {
            throw PublicationError("invalid_data", "'data' could not be encoded as JSON")
        }
    }

}
