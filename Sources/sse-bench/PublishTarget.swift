/// Who a benchmark publish is addressed to, in sse-fanout's publish JSON.
enum PublishTarget: Sendable {
    case broadcast
    case user(String)
    case connection(String)

    /// The JSON `target` object. Ids are the tool's own user names or server-made connection ids:
    /// plain ASCII letters, digits, `-` and `_`, which need no escaping.
    var json: String {
        switch self {
        case .broadcast: #"{"type":"broadcast"}"#
        case .user(let id): #"{"type":"user","id":""# + id + #""}"#
        case .connection(let id): #"{"type":"connection","id":""# + id + #""}"#
        }
    }
}
