import NIOConcurrencyHelpers
import NIOCore

/// `SendClaims` in memory, for the standalone node: the same states as in Redis, expiring alike.
public final class InProcessSendClaims: SendClaims {
    public init() {}

    private enum Entry {
        case pending(id: String, until: NIODeadline)
        case done(id: String, until: NIODeadline)

        var until: NIODeadline {
            switch self {
            case .pending(_, let until), .done(_, let until): until
            }
        }
    }

    private let entries = NIOLockedValueBox<[SendClaimKey: Entry]>([:])
    /// Expired entries are swept every this many claims, so a long-running node does not grow.
    private static let sweepEvery = 1024
    private let claims = NIOLockedValueBox(0)

    public func claim(_ key: SendClaimKey, id: String, lapse: Duration) async throws -> SendClaim {
        let now = NIODeadline.now()
        return entries.withLockedValue { entries in
            if claims.withLockedValue({ $0 += 1; return $0 % Self.sweepEvery == 0 }) {
                entries = entries.filter { $0.value.until > now }
            }
            switch entries[key] {
            case .done(let done, let until) where until > now: return .done(id: done)
            case .pending(_, let until) where until > now: return .inFlight
            default:
                entries[key] = .pending(id: id, until: now + TimeAmount(lapse))
                return .claimed
            }
        }
    }

    public func complete(_ key: SendClaimKey, id: String) async throws {
        let now = NIODeadline.now()
        entries.withLockedValue { entries in
            if case .pending(let other, let until) = entries[key], other != id, until > now { return }
            entries[key] = .done(id: id, until: now + TimeAmount(sendClaimDoneLifetime))
        }
    }

    public func release(_ key: SendClaimKey, id: String) async {
        entries.withLockedValue { entries in
            if case .pending(let held, _) = entries[key], held == id { entries[key] = nil }
        }
    }
}
