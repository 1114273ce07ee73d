/// An event's data in the broadcast scenario: `<sequence> <sentAt> ` padded with `x` to a fixed size.
/// `sentAt` is `NIODeadline.now().uptimeNanoseconds` (the monotonic clock) in this process, which also
/// receives the events, so receive time minus `sentAt` is the end-to-end latency.
enum BenchPayload {
    static func make(sequence: Int, sentAt: UInt64, size: Int) -> String {
        let head = "\(sequence) \(sentAt) "
        return head + String(repeating: "x", count: max(0, size - head.utf8.count))
    }
}
