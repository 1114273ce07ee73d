/// One dispatched server-sent event.
public struct SSEEvent: Sendable, Equatable {
    /// The stream's last event ID when this event was dispatched, as WHATWG defines it: it persists across
    /// events once an `id` field set it (an empty `id` field sets it to ""); nil if no `id` field was ever applied.
    public var id: String?
    /// The `event` field, or "message" when the event had none (or an empty one).
    public var event: String
    /// The `data` lines joined with "\n".
    public var data: String
    /// The last valid `retry` field inside this event, if any.
    public var retry: Int?

    public init(id: String? = nil, event: String = "message", data: String, retry: Int? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry
    }
}
