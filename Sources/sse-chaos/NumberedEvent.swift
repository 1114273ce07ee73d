import Foundation
import SSEClient

/// The events the suite publishes: one numbered sequence per user, so a client can tell exactly which
/// events it missed, got twice or got out of order.
///
/// Published as `{"target":{"type":"user","id":"chaos-<k>"},"event":"n",
/// "data":"{\"seq\":N,\"sentAt\":T,\"run\":\"<run>\",\"user\":k}","id":"<run>-<k>-<N>"}`.
/// The `id` is the publisher's idempotency key (the server may put its own resume token in the SSE
/// `id:`, so the checker reads everything it needs from the data). `sentAt` is wall-clock microseconds
/// when the event was due (a retry sends the very same bytes); `run` and `user` let the checker tell
/// an event of another run, or routed to the wrong user, from a numbered event it is owed.
enum NumberedEvent {
    static let eventName = "n"

    struct Payload: Decodable {
        var seq: Int
        var sentAt: Int64
        var run: String
        var user: Int
    }

    static func userID(_ user: Int) -> String { "chaos-\(user)" }

    static func eventID(run: String, user: Int, seq: Int) -> String { "\(run)-\(user)-\(seq)" }

    /// The POST /publish body. `padding` bytes of filler in the data make the event bigger (the stalled
    /// client's user gets large events, so its socket buffers fill within the scenario).
    static func publishBody(run: String, user: Int, seq: Int, sentAt: Int64, padding: Int = 0) -> [UInt8] {
        let filler = padding > 0 ? #",\"pad\":\"\#(String(repeating: "x", count: padding))\""# : ""
        let data = #"{\"seq\":\#(seq),\"sentAt\":\#(sentAt),\"run\":\"\#(run)\",\"user\":\#(user)\#(filler)}"#
        let json = #"{"target":{"type":"user","id":"\#(userID(user))"},"event":"\#(eventName)","data":"\#(data)","id":"\#(eventID(run: run, user: user, seq: seq))"}"#
        return Array(json.utf8)
    }

    /// The payload of a numbered event, nil for anything else (control events, malformed data).
    static func payload(of event: SSEEvent) -> Payload? {
        guard event.event == eventName else { return nil }
        return try? JSONDecoder().decode(Payload.self, from: Data(event.data.utf8))
    }
}
