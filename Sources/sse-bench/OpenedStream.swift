import NIOCore

/// A subscriber stream the pool holds: its index (which names its user, when streams have their own)
/// and what the server said when it opened.
struct OpenedStream {
    let channel: any Channel
    let index: Int
    let greeting: StreamGreeting?
}
