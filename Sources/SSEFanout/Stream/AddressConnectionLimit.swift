import NIOConcurrencyHelpers

/// How many streams one client address may hold on this node (`limits.maxConnectionsPerAddress`):
/// past it, `GET /events` gets 429. The address is the socket peer's IP: behind a proxy that is the
/// proxy's, so the limit is meant for a node clients reach directly. A place is taken when a stream is
/// admitted and given back when its connection closes, whichever way it ends.
final class AddressConnectionLimit: Sendable {
    let maximum: Int
    private let counts = NIOLockedValueBox<[String: Int]>([:])

    init(maximum: Int) {
        self.maximum = maximum
    }

    var isOn: Bool { maximum > 0 }

    /// Takes a place for `address`; false (and nothing taken) when it holds `maximum` already.
    func admit(_ address: String) -> Bool {
        counts.withLockedValue { counts in
            let held = counts[address, default: 0]
            guard held < maximum else { return false }
            counts[address] = held + 1
            return true
        }
    }

    /// Gives back a place `admit` took.
    func release(_ address: String) {
        counts.withLockedValue { counts in
            let held = counts[address, default: 0] - 1
            counts[address] = held > 0 ? held : nil
        }
    }

    /// Streams `address` holds now.
    func held(by address: String) -> Int {
        counts.withLockedValue { $0[address, default: 0] }
    }
}
