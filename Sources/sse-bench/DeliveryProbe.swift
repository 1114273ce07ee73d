/// Reads a pool's delivery counts from any task (for the progress line), each on its own event loop.
struct DeliveryProbe: Sendable {
    let recorders: [DeliveryRecorder]

    func count() async -> Int {
        var total = 0
        for recorder in recorders {
            total += (try? await recorder.eventLoop.submit { recorder.deliveryCount }.get()) ?? 0
        }
        return total
    }
}
