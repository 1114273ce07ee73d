import NIOConcurrencyHelpers
import Testing

@testable import SSEFanout

/// A kick without reconnect bars its target for a while, then refuses the tokens issued before it.
@Suite struct KickBarsTests {
    @Test func aKickRefusesEveryStreamWhileBarredThenOnlyTokensIssuedBeforeIt() throws {
        let clock = NIOLockedValueBox<Int64>(1_000_000)
        let bars = KickBars { clock.withLockedValue { $0 } }
        var kick = Kick(target: .session("s1"), reason: "signed out", reconnect: false)
        kick.barredUntil = 1_000_000 + 300_000
        kick.revokedBefore = 1_000_000
        kick.revokedUntil = 1_000_000 + 86_400_000
        bars.add(kick)
        let request = try StreamRequest(uri: "/events?user=alice&session=s1")
        let old: Int64 = 999_000
        let new: Int64 = 1_200_000

        #expect(bars.refusal(for: request, issuedAt: new) == .barred(kick))
        clock.withLockedValue { $0 += 300_001 }
        // The bar ran out: a token issued before the kick stays refused, one issued after opens.
        #expect(bars.refusal(for: request, issuedAt: old) == .revoked(kick))
        #expect(bars.refusal(for: request, issuedAt: 0) == .revoked(kick))  // no `iat`: issued before
        #expect(bars.refusal(for: request, issuedAt: new) == nil)
        // Without authentication there is no token to revoke.
        #expect(bars.refusal(for: request, issuedAt: nil) == nil)
        // Another session is not concerned.
        #expect(bars.refusal(for: try StreamRequest(uri: "/events?user=alice&session=s2"), issuedAt: old) == nil)
        // For as long as such a token could be valid, and no longer.
        clock.withLockedValue { $0 = 1_000_000 + 86_400_001 }
        #expect(bars.refusal(for: request, issuedAt: old) == nil)
    }

    @Test func theRevocationTravelsWithTheKick() throws {
        var kick = Kick(target: .user("alice", tenant: "acme"), reason: "fired", reconnect: false)
        kick.barredUntil = 5
        kick.revokedBefore = 3
        kick.revokedUntil = 9
        let decoded = try Kick.decode(kick.encode())
        #expect(decoded == kick)
        #expect(decoded.keptUntil == 9)
    }
}
