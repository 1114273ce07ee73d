import NIOConcurrencyHelpers

/// Targets kicked with `reconnect: false`, and until when: a stream that would answer to one of them
/// is refused, with 403 while the bar lasts, and after it with 401 while its token was issued before
/// the kick. Every node keeps all of them in memory, so opening a stream costs no Redis read.
final class KickBars: Sendable {
    private struct State {
        var bars: [Address: Kick] = [:]
        /// When kicks that ran out are next swept: at most once a second, so that a stream opening
        /// beside many bars costs a lookup per address, not a pass over all of them.
        var nextSweep: Int64 = 0
    }

    private let state = NIOLockedValueBox(State())
    private let now: @Sendable () -> Int64

    init(now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    /// Why a stream is refused.
    enum Refusal: Equatable {
        /// The target is barred: no stream of it opens, whatever its token.
        case barred(Kick)
        /// The stream's token was issued before the target was kicked.
        case revoked(Kick)
    }

    func add(_ kick: Kick) {
        guard kick.keptUntil > now() else { return }
        state.withLockedValue { $0.bars[kick.target] = kick }
    }

    /// What refuses this stream, if anything; kicks that ran out are forgotten.
    ///
    /// - Parameter issuedAt: with authentication on, the stream's token's `iat` in ms since 1970 (0 when it
    ///   has none); nil with authentication off, where there is no token to revoke.
    func refusal(for request: StreamRequest, issuedAt: Int64?) -> Refusal? {
        state.withLockedValue { state in
            guard !state.bars.isEmpty else { return nil }
            let now = now()
            if now >= state.nextSweep {
                state.bars = state.bars.filter { $0.value.keptUntil > now }
                state.nextSweep = now + 1000
            }
            for address in request.addresses {
                guard let kick = state.bars[address], kick.keptUntil > now else { continue }
                if (kick.barredUntil ?? 0) > now { return .barred(kick) }
                if let issuedAt, let before = kick.revokedBefore, (kick.revokedUntil ?? 0) > now, issuedAt < before {
                    return .revoked(kick)
                }
            }
            return nil
        }
    }
}
