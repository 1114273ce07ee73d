@testable import RabbitMQ
import Testing

@Suite("Coalescing acks")
struct AckCoalescerTests {
    private func coalescer(delivered tags: ClosedRange<UInt64>) -> AckCoalescer {
        var coalescer = AckCoalescer()
        for tag in tags { coalescer.delivered(tag) }
        return coalescer
    }

    @Test("a run of acks from the oldest open delivery is one frame with multiple set")
    func aRunIsOneFrame() {
        var coalescer = coalescer(delivered: 1...5)
        #expect(coalescer.frames(for: [(3, .ack), (1, .ack), (2, .ack)]) == [.ack(deliveryTag: 3, multiple: true)])
        #expect(coalescer.frames(for: [(4, .ack)]) == [.ack(deliveryTag: 4, multiple: false)])
    }

    @Test("acks behind a delivery still in hand go one by one, and never cover it")
    func acksBehindAnOpenDeliveryGoAlone() {
        var coalescer = coalescer(delivered: 1...4)
        #expect(coalescer.frames(for: [(2, .ack), (3, .ack)]) == [.ack(deliveryTag: 2, multiple: false), .ack(deliveryTag: 3, multiple: false)])
        // 1 is settled later; nothing after it is still open but 4.
        #expect(coalescer.frames(for: [(1, .ack)]) == [.ack(deliveryTag: 1, multiple: false)])
        #expect(coalescer.frames(for: [(4, .ack)]) == [.ack(deliveryTag: 4, multiple: false)])
    }

    @Test("rejects go on their own, and a run of acks continues past them")
    func rejectsGoAlone() {
        var coalescer = coalescer(delivered: 1...4)
        let frames = coalescer.frames(for: [(1, .ack), (2, .reject(requeue: true)), (3, .ack)])
        #expect(frames == [.reject(deliveryTag: 2, requeue: true), .ack(deliveryTag: 3, multiple: true)])
        #expect(coalescer.frames(for: [(4, .reject(requeue: false))]) == [.reject(deliveryTag: 4, requeue: false)])
    }
}
