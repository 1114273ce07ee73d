import NIOConcurrencyHelpers

/// Targets kicked with `reconnect: false`, and until when: a stream that would answer to one of them
/// is refused (403). Every node keeps all of them in memory, so opening a stream costs no Redis read.
final class KickBars: Sendable {
    private let bars = NIOLockedValueBox<[Address: Kick]>([:])
    private let now: @Sendable () -> Int64

    init(now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    func add(_ kick: Kick) {
        guard let until = kick.barredUntil, until > now() else { return }
        bars.withLockedValue { $0[kick.target] = kick }
    }

    /// The bar that refuses this stream, if any; bars that ran out are forgotten.
    func bar(for request: StreamRequest) -> Kick? {
        bars.withLockedValue { bars in
            guard !bars.isEmpty else { return nil }
            let now = now()
            bars = bars.filter { ($0.value.barredUntil ?? 0) > now }
            for address in request.addresses {
                if let kick = bars[address] { return kick }
            }
            return nil
        }
    }
}
