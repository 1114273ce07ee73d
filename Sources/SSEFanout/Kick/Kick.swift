import Foundation

/// `POST /disconnect`: end every stream of a target, anywhere in the cluster, telling each why; with
/// `reconnect: false` the target is also barred from opening streams for a while (an EventSource
/// reconnects by itself, so without the bar a kick would last one `retry:` interval), and every token
/// issued before the kick is refused for as long as one could still be valid (`auth.maxTokenLifetime`):
/// a kicked session's token does not come back when the bar runs out.
///
/// It travels to every node as a control message (`BrokerTopology.controlKey`), which only nodes can
/// send: each ends its matching streams and keeps the bar, so opening a stream never asks Redis.
/// Bars are also kept in Redis until they run out, for nodes that start later.
public struct Kick: Sendable, Equatable {
    public var target: Address
    /// What the client is told (`event: disconnect`, `{"reason": ..., "reconnect": ...}`).
    public var reason: String
    public var reconnect: Bool
    /// Until when the target may not open new streams (ms since 1970); nil when `reconnect`.
    public var barredUntil: Int64?
    /// Tokens issued before this (ms since 1970; a token without `iat` counts as issued before) open no
    /// stream of the target until `revokedUntil`; nil when `reconnect`.
    public var revokedBefore: Int64?
    public var revokedUntil: Int64?
    /// Why the streams end, as their lifecycle `connection.closed` says: `kicked` for a backend's kick,
    /// `replaced` for a user's oldest stream past the per-user limit.
    public var cause: CloseReason

    public init(target: Address, reason: String, reconnect: Bool, barredUntil: Int64? = nil, cause: CloseReason = .kicked) {
        self.target = target
        self.reason = reason
        self.reconnect = reconnect
        self.barredUntil = barredUntil
        self.cause = cause
    }

    static let maxReasonLength = 256

    /// Until when anything of it is kept: the bar or the revocation, whichever lasts longer.
    var keptUntil: Int64 {
        max(barredUntil ?? 0, revokedUntil ?? 0)
    }

    /// The request body: `{"target": {...}, "reason": "...", "reconnect": false}`.
    static func decodeRequest(_ bytes: [UInt8]) throws(PublicationError) -> Kick {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw PublicationError("invalid_json", "the body is not valid JSON")
        }
        guard let body = object as? [String: Any] else {
            throw PublicationError("invalid_body", #"the body must be {"target": {...}, "reason": "...", "reconnect": true|false}"#)
        }
        guard let rawTarget = body["target"] else {
            throw PublicationError("missing_target", "'target' is required")
        }
        let target = try PublicationCodec.decodeTarget(rawTarget, field: "target")
        var reason = "kicked"
        if let raw = body["reason"], !(raw is NSNull) {
            guard let text = raw as? String, !text.isEmpty, text.utf8.count <= maxReasonLength,
                !text.unicodeScalars.contains(where: Identifier.isForbidden)
            else {
                throw PublicationError("invalid_reason", "'reason' must be 1 to \(maxReasonLength) bytes without control characters")
            }
            reason = text
        }
        var reconnect = true
        if let raw = body["reconnect"], !(raw is NSNull) {
            guard let flag = raw as? Bool else { throw PublicationError("invalid_reconnect", "'reconnect' must be true or false") }
            reconnect = flag
        }
        return Kick(target: target, reason: reason, reconnect: reconnect)
    }

    /// The control message nodes send each other.
    func encode() -> [UInt8] {
        var out = Array(#"{"control":"disconnect","target":"#.utf8)
        PublicationCodec.encodeTarget(target, to: &out)
        out.append(contentsOf: #","reason":"#.utf8)
        JSONString.append(reason, to: &out)
        out.append(contentsOf: #","reconnect":\#(reconnect)"#.utf8)
        if let barredUntil { out.append(contentsOf: #","barredUntil":\#(barredUntil)"#.utf8) }
        if let revokedBefore, let revokedUntil {
            out.append(contentsOf: #","revokedBefore":\#(revokedBefore),"revokedUntil":\#(revokedUntil)"#.utf8)
        }
        if cause != .kicked { out.append(contentsOf: #","cause":"\#(cause.rawValue)""#.utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func decode(_ bytes: [UInt8]) throws(PublicationError) -> Kick {
        var kick = try decodeRequest(bytes)
        let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        kick.barredUntil = (object?["barredUntil"] as? NSNumber)?.int64Value
        kick.revokedBefore = (object?["revokedBefore"] as? NSNumber)?.int64Value
        kick.revokedUntil = (object?["revokedUntil"] as? NSNumber)?.int64Value
        kick.cause = (object?["cause"] as? String).flatMap(CloseReason.init(rawValue:)) ?? .kicked
        return kick
    }
}
