import Foundation

/// Small JSON bodies for the plain routes, with a stable key order.
enum JSONBody {
    static func encode(_ object: [String: Any]) -> [UInt8] {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }

    static func error(_ code: String, _ message: String) -> [UInt8] {
        encode(["error": code, "message": message])
    }

    /// The refusal of a stream whose target was kicked with `reconnect: false`.
    static func kicked(_ kick: Kick) -> [UInt8] {
        encode(["error": "kicked", "message": "kicked: \(kick.reason)", "reason": kick.reason, "until": kick.barredUntil ?? 0] as [String: Any])
    }
}
