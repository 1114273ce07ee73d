import Testing

@testable import SSEFanout

@Suite struct AuthGrantTests {
    private func claims(tenant: String? = nil, channels: [String]? = nil, publish: [String]? = nil) -> VerifiedClaims {
        VerifiedClaims(
            user: "alice", tenant: tenant, channels: channels.map { ChannelGrant(patterns: $0)! } ?? .none,
            publish: publish.map { PublishGrant(patterns: $0)! }, expiresAt: 0
        )
    }

    @Test func channelPatterns() throws {
        let exact = claims(channels: ["news", "sport-*"])
        #expect(exact.allowsChannel("news"))
        #expect(!exact.allowsChannel("news2") && !exact.allowsChannel("new") && !exact.allowsChannel("NEWS"))
        #expect(exact.allowsChannel("sport-") && exact.allowsChannel("sport-football"))
        #expect(!exact.allowsChannel("sport") && !exact.allowsChannel("xsport-a"))
        let any = claims(channels: ["*"])
        #expect(any.allowsChannel("anything") && any.allowsChannel("news-*"))
        // No claim: no channels at all.
        #expect(!claims().allowsChannel("news"))
        #expect(!claims(channels: []).allowsChannel("news"))
        #expect(ChannelGrant(patterns: ["a*b"]) == nil && ChannelGrant(patterns: ["*a"]) == nil && ChannelGrant(patterns: [""]) == nil)
        #expect(ChannelGrant(patterns: ["news", "a*"]) != nil)
    }

    @Test func checkChannelsNamesTheFirstRefused() {
        let c = claims(channels: ["news"])
        let error = TestTokens.refusal { () throws(AuthError) in try c.checkChannels(["news", "secret", "other"]) }
        #expect(error?.code == "channel_not_allowed" && error?.status == .forbidden)
        #expect(error?.message.contains("'secret'") == true)
        #expect(TestTokens.refusal { () throws(AuthError) in try c.checkChannels(["news"]) } == nil)
    }

    @Test func publishPatternsWithoutTenant() {
        let c = PublisherCredential.token(claims(publish: ["user:alice", "channel:news-*", "session:*"]))
        #expect(c.allows(kind: .user, tenant: nil, id: "alice"))
        #expect(!c.allows(kind: .user, tenant: nil, id: "bob"))
        #expect(!c.allows(kind: .user, tenant: nil, id: "alice2"))
        #expect(c.allows(kind: .channel, tenant: nil, id: "news-uk"))
        #expect(!c.allows(kind: .channel, tenant: nil, id: "news"))
        #expect(c.allows(kind: .session, tenant: nil, id: "anything"))
        #expect(!c.allows(kind: .client, tenant: nil, id: "alice"))
        #expect(!c.allows(kind: .connection, tenant: nil, id: "alice"))
        #expect(!c.allows(kind: .broadcast, tenant: nil, id: nil))
        #expect(!c.allows(kind: .tenant, tenant: nil, id: "acme"))
        // A token without a tenant is confined to the default tenant.
        #expect(!c.allows(kind: .user, tenant: "acme", id: "alice"))
        #expect(c.confinedTenant == "")

        // Even `*` reaches no other tenant, no broadcast (every tenant's streams) and no connection id
        // (not scoped by tenant).
        let everything = PublisherCredential.token(claims(publish: ["*"]))
        for kind: Address.Kind in [.user, .session, .client, .channel] {
            #expect(everything.allows(kind: kind, tenant: nil, id: "x"))
            #expect(everything.allows(kind: kind, tenant: "", id: "x"))
            #expect(!everything.allows(kind: kind, tenant: "beta", id: "x"))
        }
        #expect(!everything.allows(kind: .connection, tenant: nil, id: "x"))
        #expect(!everything.allows(kind: .tenant, tenant: nil, id: "acme"))
        #expect(!everything.allows(kind: .broadcast, tenant: nil, id: nil))
        #expect(!everything.allows(kind: .user, tenant: nil, id: nil))

        let broadcast = PublisherCredential.token(claims(publish: ["broadcast"]))
        #expect(!broadcast.allows(kind: .broadcast, tenant: nil, id: nil))
        #expect(!broadcast.allows(kind: .user, tenant: nil, id: "alice"))
        #expect(!PublisherCredential.token(claims()).allows(kind: .user, tenant: nil, id: "alice"))
    }

    @Test func aTenantTokenIsConfinedToItsTenant() {
        let star = PublisherCredential.token(claims(tenant: "acme", publish: ["*"]))
        #expect(star.allows(kind: .user, tenant: "acme", id: "alice"))
        #expect(!star.allows(kind: .broadcast, tenant: "acme", id: nil))
        #expect(star.allows(kind: .tenant, tenant: nil, id: "acme"))
        #expect(star.allows(kind: .tenant, tenant: "acme", id: "acme"))
        #expect(!star.allows(kind: .user, tenant: "globex", id: "alice"))
        #expect(!star.allows(kind: .user, tenant: nil, id: "alice"))
        #expect(!star.allows(kind: .broadcast, tenant: nil, id: nil))
        #expect(!star.allows(kind: .tenant, tenant: nil, id: "globex"))
        #expect(!star.allows(kind: .tenant, tenant: "acme", id: "globex"))

        // Its patterns cannot reach outside its tenant either.
        let other = PublisherCredential.token(claims(tenant: "acme", publish: ["tenant:globex", "user:alice"]))
        #expect(!other.allows(kind: .user, tenant: "globex", id: "bob"))
        #expect(!other.allows(kind: .tenant, tenant: nil, id: "globex"))
        #expect(other.allows(kind: .user, tenant: "acme", id: "alice"))
        #expect(!other.allows(kind: .user, tenant: "globex", id: "alice"))
        #expect(!other.allows(kind: .user, tenant: "acme", id: "bob"))
    }

    @Test func aTenantPatternAllowsEveryTargetInThatTenantForATokenOfThatTenant() {
        let c = PublisherCredential.token(claims(tenant: "acme", publish: ["tenant:acme"]))
        for kind: Address.Kind in [.user, .session, .client, .channel] {
            #expect(c.allows(kind: kind, tenant: "acme", id: "x"))
            #expect(!c.allows(kind: kind, tenant: "globex", id: "x"))
            #expect(!c.allows(kind: kind, tenant: nil, id: "x"))
        }
        #expect(c.allows(kind: .tenant, tenant: nil, id: "acme"))
        #expect(!c.allows(kind: .tenant, tenant: nil, id: "acme2"))
        // Without a tenant claim, a `tenant:` pattern reaches nothing outside the default tenant.
        let tenantless = PublisherCredential.token(claims(publish: ["tenant:acme"]))
        #expect(!tenantless.allows(kind: .user, tenant: "acme", id: "x"))
        #expect(!tenantless.allows(kind: .tenant, tenant: nil, id: "acme"))
    }

    @Test func aTenantKeyReachesEverythingInItsTenantAndNothingElse() {
        let key = PublisherCredential.tenantKey("acme")
        #expect(key.confinedTenant == "acme")
        #expect(!key.isFullRights)
        for kind: Address.Kind in [.user, .session, .client, .channel] {
            #expect(key.allows(kind: kind, tenant: "acme", id: "x"))
            #expect(!key.allows(kind: kind, tenant: "beta", id: "x"))
            #expect(!key.allows(kind: kind, tenant: nil, id: "x"))
        }
        #expect(key.allows(kind: .tenant, tenant: nil, id: "acme"))
        #expect(!key.allows(kind: .tenant, tenant: nil, id: "beta"))
        #expect(!key.allows(kind: .broadcast, tenant: nil, id: nil))
        #expect(!key.allows(kind: .connection, tenant: nil, id: "c1"))
        #expect(key.allowsEvery(kind: .user, tenant: "acme"))
        #expect(!key.allowsEvery(kind: .user, tenant: "beta"))
    }

    @Test func allowsEveryNeedsAPatternCoveringTheWholeKind() {
        #expect(PublisherCredential.token(claims(publish: ["user:*"])).allowsEvery(kind: .user, tenant: ""))
        #expect(PublisherCredential.token(claims(publish: ["*"])).allowsEvery(kind: .user, tenant: ""))
        #expect(!PublisherCredential.token(claims(publish: ["*"])).allowsEvery(kind: .user, tenant: "beta"))
        #expect(!PublisherCredential.token(claims(publish: ["user:alice"])).allowsEvery(kind: .user, tenant: ""))
        #expect(!PublisherCredential.token(claims(publish: ["user:a*"])).allowsEvery(kind: .user, tenant: ""))
        #expect(!PublisherCredential.token(claims(publish: ["channel:*"])).allowsEvery(kind: .user, tenant: ""))
        #expect(PublisherCredential.token(claims(tenant: "acme", publish: ["tenant:acme"])).allowsEvery(kind: .user, tenant: "acme"))
        #expect(PublisherCredential.apiKey.allowsEvery(kind: .user, tenant: "beta"))
    }

    @Test func apiKeysAndDisabledAuthAllowEverything() {
        for credential in [PublisherCredential.apiKey, .unrestricted] {
            #expect(credential.allows(kind: .user, tenant: "acme", id: "alice"))
            #expect(credential.allows(kind: .tenant, tenant: nil, id: "globex"))
            #expect(credential.allows(kind: .broadcast, tenant: nil, id: nil))
        }
        let error = TestTokens.refusal { () throws(AuthError) in
            try PublisherCredential.token(self.claims(publish: ["user:bob"])).check(kind: .user, tenant: nil, id: "alice")
        }
        #expect(error?.code == "target_not_allowed" && error?.status == .forbidden)
    }

    @Test func publishPatternSyntax() {
        for valid in ["*", "broadcast", "user:*", "user:alice", "channel:news-*", "tenant:acme", "session:*", "client:*", "connection:*", "tenant:*"] {
            #expect(PublishGrant(patterns: [valid]) != nil, "\(valid)")
        }
        for invalid in ["", "user", "users:alice", "broadcast:x", "user:", "channel:a*b", "*:alice", "user:al\u{1}ice", "Broadcast"] {
            #expect(PublishGrant(patterns: [invalid]) == nil, "\(invalid)")
        }
    }
}
