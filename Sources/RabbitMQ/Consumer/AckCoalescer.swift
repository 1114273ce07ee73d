/// Turns the acks a consumer's deliveries get into as few frames as the broker allows: a run of acks
/// that covers every delivery still open up to some tag becomes one `basic.ack` with `multiple` set.
/// Acks behind a delivery that is still being handled, and every reject, go out one by one, so a slow
/// delivery never holds back the others' acks (nor the prefetch window they free).
struct AckCoalescer {
    enum Frame: Equatable {
        case ack(deliveryTag: UInt64, multiple: Bool)
        case reject(deliveryTag: UInt64, requeue: Bool)
    }

    /// Tags delivered on this channel and not yet acked or rejected toward the broker, oldest first
    /// (at most the prefetch count, so searching it is cheap).
    private var open: [UInt64] = []

    /// Records a delivery, before its handler runs (tags on one channel only grow).
    mutating func delivered(_ deliveryTag: UInt64) {
        open.append(deliveryTag)
    }

    /// The frames that carry out `requested`, in an order the broker accepts; every tag in
    /// `requested` is settled by them.
    mutating func frames(for requested: [(deliveryTag: UInt64, kind: Acknowledgement.Kind)]) -> [Frame] {
        var frames: [Frame] = []
        var acked: Set<UInt64> = []
        for request in requested {
            switch request.kind {
            case .ack:
                acked.insert(request.deliveryTag)
            case .reject(let requeue):
                frames.append(.reject(deliveryTag: request.deliveryTag, requeue: requeue))
                remove(request.deliveryTag)
            }
        }
        // The acked run at the front of what is open: one frame for all of it.
        var run = 0
        while run < open.count, acked.remove(open[run]) != nil { run += 1 }
        if run > 0 {
            frames.append(.ack(deliveryTag: open[run - 1], multiple: run > 1))
            open.removeFirst(run)
        }
        // Behind a delivery still in hand: each on its own.
        for tag in acked.sorted() {
            frames.append(.ack(deliveryTag: tag, multiple: false))
            remove(tag)
        }
        return frames
    }

    private mutating func remove(_ deliveryTag: UInt64) {
        if let index = open.firstIndex(of: deliveryTag) { open.remove(at: index) }
    }
}
