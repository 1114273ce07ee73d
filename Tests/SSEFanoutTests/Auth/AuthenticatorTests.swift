import Crypto
import CryptoExtras
import Foundation
import Testing

@testable import SSEFanout

@Suite struct AuthenticatorTests {
    typealias T = TestTokens

    private func expectRefused(_ auth: Authenticator, _ token: String, _ code: String, at now: Double = T.now) {
        let error = T.refusal { () throws(AuthError) in _ = try auth.verify(token, at: now) }
        #expect(error?.code == code, "\(error?.description ?? "accepted")")
        #expect(error?.status == .unauthorized)
        // The token, or any part of it, never appears in what is logged or sent back.
        for part in token.split(separator: ".") where part.count > 8 {
            #expect(!(error?.message.contains(part) ?? false))
        }
    }

    // MARK: Keys

    @Test func hs256HandSignedTokenGivesItsClaims() async throws {
        let auth = try await T.authenticator()
        let token = T.token(claims: T.claims([
            "tenant": "acme", "sid": "s-1", "channels": ["news", "sport-*"], "publish": ["user:*"], "nbf": T.now - 1,
        ]))
        let claims = try auth.verify(token, at: T.now)
        #expect(claims.user == "alice")
        #expect(claims.tenant == "acme")
        #expect(claims.sessionID == "s-1")
        #expect(claims.channels.patterns == ["news", "sport-*"])
        #expect(claims.publish?.patterns == ["user:*"])
        #expect(claims.expiresAt == T.now + 3600)
        #expect(auth.algorithms == ["HS256"])
    }

    @Test func hs256MintedTokenVerifies() async throws {
        let auth = try await T.authenticator()
        #expect(auth.canMint)
        let token = try await auth.mint(user: "alice", tenant: "acme", sid: "s1", channels: ["news"], publish: ["channel:news"], ttl: .seconds(600))
        let claims = try auth.verify(token)
        #expect(claims.user == "alice" && claims.tenant == "acme" && claims.sessionID == "s1")
        #expect(claims.allowsChannel("news") && !claims.allowsChannel("sport"))
        #expect(claims.publish?.patterns == ["channel:news"])
        let now = Date().timeIntervalSince1970
        #expect(abs(claims.expiresAt - (now + 600)) < 5)
        // A token signed with another secret does not verify.
        let other = try await T.authenticator { $0.jwtSecret = String(T.secret.reversed()) }
        expectRefused(other, token, "invalid_signature", at: now)
    }

    @Test func es256FromPrivateKeyPEM() async throws {
        let path = try T.file(T.ecKey.pemRepresentation)
        let auth = try await Authenticator.load(config { $0.jwtKeyFile = path })
        #expect(auth.algorithms == ["ES256"])
        let claims = try auth.verify(T.token(header: ["alg": "ES256", "typ": "JWT"], claims: T.claims(), sign: T.es256()), at: T.now)
        #expect(claims.user == "alice")
        // The private key signs what the public key verifies.
        #expect(auth.canMint)
        let minted = try await auth.mint(user: "bob", ttl: .seconds(60))
        #expect(try auth.verify(minted).user == "bob")
        #expect(T.header(of: minted)?["alg"] as? String == "ES256")
        // Another EC key's signature does not verify.
        let other = T.token(header: ["alg": "ES256"], claims: T.claims(), sign: T.es256(P256.Signing.PrivateKey()))
        expectRefused(auth, other, "invalid_signature")
    }

    @Test func keyBlockAfterOtherPEMBlocks() async throws {
        // As `openssl ecparam -name prime256v1 -genkey` writes it: parameters first, then the key.
        let parameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
        let path = try T.file(parameters + T.ecKey.pemRepresentation + "\n")
        let auth = try await Authenticator.load(config { $0.jwtKeyFile = path })
        #expect(auth.canMint)
        #expect(try auth.verify(T.token(header: ["alg": "ES256"], claims: T.claims(), sign: T.es256()), at: T.now).user == "alice")
    }

    @Test func es256FromPublicKeyPEMVerifiesButCannotMint() async throws {
        let path = try T.file(T.ecKey.publicKey.pemRepresentation)
        let auth = try await Authenticator.load(config { $0.jwtKeyFile = path })
        #expect(try auth.verify(T.token(header: ["alg": "ES256"], claims: T.claims(), sign: T.es256()), at: T.now).user == "alice")
        #expect(!auth.canMint)
        await #expect(throws: AuthError.self) { _ = try await auth.mint(user: "alice", ttl: .seconds(60)) }
        do {
            _ = try await auth.mint(user: "alice", ttl: .seconds(60))
        } catch {
            #expect(error.code == "no_signing_key")
        }
    }

    @Test func rs256FromPrivateAndPublicKeyPEM() async throws {
        let privatePath = try T.file(T.rsaKey.pemRepresentation)
        let publicPath = try T.file(T.rsaKey.publicKey.pemRepresentation)
        let token = T.token(header: ["alg": "RS256", "typ": "JWT"], claims: T.claims(), sign: T.rs256())
        let fromPrivate = try await Authenticator.load(config { $0.jwtKeyFile = privatePath })
        let fromPublic = try await Authenticator.load(config { $0.jwtKeyFile = publicPath })
        #expect(fromPrivate.algorithms == ["RS256"])
        #expect(try fromPrivate.verify(token, at: T.now).user == "alice")
        #expect(try fromPublic.verify(token, at: T.now).user == "alice")
        let minted = try await fromPrivate.mint(user: "carol", channels: ["*"], ttl: .seconds(60))
        let claims = try fromPublic.verify(minted)
        #expect(claims.user == "carol" && claims.allowsChannel("anything"))
        #expect(!fromPublic.canMint)
        // PKCS #1 and PKCS #8 private keys, and PKCS #1 public keys, all read.
        for pem in [T.rsaKey.pemRepresentation, T.rsaKey.pkcs8PEMRepresentation, T.rsaKey.publicKey.pkcs1PEMRepresentation] {
            let path = try T.file(pem)
            let auth = try await Authenticator.load(config { $0.jwtKeyFile = path })
            #expect(try auth.verify(token, at: T.now).user == "alice", "\(pem.prefix(32))")
        }
    }

    @Test func jwksKeysAreChosenByKid() async throws {
        let ec = T.ecKey.publicKey.rawRepresentation
        let rsa = try T.rsaKey.publicKey.getKeyPrimitives()
        let jwks: [String: Any] = [
            "keys": [
                ["kty": "EC", "crv": "P-256", "kid": "ec-1", "x": Base64URL.encode(ec.prefix(32)), "y": Base64URL.encode(ec.suffix(32))],
                ["kty": "RSA", "kid": "rsa-1", "alg": "RS256", "n": Base64URL.encode(rsa.modulus), "e": Base64URL.encode(rsa.publicExponent)],
            ]
        ]
        let path = try T.file(String(decoding: try JSONSerialization.data(withJSONObject: jwks), as: UTF8.self), suffix: ".json")
        let auth = try await Authenticator.load(config { $0.jwtKeyFile = path })
        #expect(auth.algorithms == ["ES256", "RS256"])
        #expect(!auth.canMint)

        let ecToken = T.token(header: ["alg": "ES256", "kid": "ec-1"], claims: T.claims(), sign: T.es256())
        let rsaToken = T.token(header: ["alg": "RS256", "kid": "rsa-1"], claims: T.claims(), sign: T.rs256())
        #expect(try auth.verify(ecToken, at: T.now).user == "alice")
        #expect(try auth.verify(rsaToken, at: T.now).user == "alice")
        // Without a kid, the keys of the token's algorithm are tried.
        #expect(try auth.verify(T.token(header: ["alg": "RS256"], claims: T.claims(), sign: T.rs256()), at: T.now).user == "alice")
        // A kid names one key, whose algorithm the token must use.
        expectRefused(auth, T.token(header: ["alg": "RS256", "kid": "ec-1"], claims: T.claims(), sign: T.rs256()), "wrong_algorithm")
        expectRefused(auth, T.token(header: ["alg": "ES256", "kid": "rsa-1"], claims: T.claims(), sign: T.es256()), "wrong_algorithm")
        expectRefused(auth, T.token(header: ["alg": "ES256", "kid": "nope"], claims: T.claims(), sign: T.es256()), "unknown_key")
        expectRefused(auth, T.token(header: ["alg": "HS256"], claims: T.claims()), "wrong_algorithm")
    }

    @Test func jwksWithPrivateKeyMintsWithItsKid() async throws {
        let key = P256.Signing.PrivateKey()
        let raw = key.publicKey.rawRepresentation
        let jwks: [String: Any] = [
            "keys": [[
                "kty": "EC", "crv": "P-256", "kid": "signer", "alg": "ES256",
                "x": Base64URL.encode(raw.prefix(32)), "y": Base64URL.encode(raw.suffix(32)), "d": Base64URL.encode(key.rawRepresentation),
            ]]
        ]
        let path = try T.file(String(decoding: try JSONSerialization.data(withJSONObject: jwks), as: UTF8.self), suffix: ".json")
        let auth = try await Authenticator.load(config { $0.jwtKeyFile = path })
        let token = try await auth.mint(user: "alice", ttl: .seconds(60))
        #expect(T.header(of: token)?["kid"] as? String == "signer")
        #expect(try auth.verify(token).user == "alice")
    }

    @Test func secretAndKeyFileTogetherEachVerifyTheirOwnAlgorithm() async throws {
        let path = try T.file(T.ecKey.publicKey.pemRepresentation)
        let auth = try await Authenticator.load(config { $0.jwtKeyFile = path; $0.jwtSecret = T.secret })
        #expect(auth.algorithms == ["ES256", "HS256"])
        #expect(try auth.verify(T.token(claims: T.claims()), at: T.now).user == "alice")
        #expect(try auth.verify(T.token(header: ["alg": "ES256"], claims: T.claims(), sign: T.es256()), at: T.now).user == "alice")
        // A kid naming no JWKS key still finds a key that has none.
        #expect(try auth.verify(T.token(header: ["alg": "HS256", "kid": "k1"], claims: T.claims()), at: T.now).user == "alice")
    }

    // MARK: Refusals

    @Test func forgedSignaturesAreRefused() async throws {
        let auth = try await T.authenticator()
        let token = T.token(claims: T.claims())
        let parts = token.split(separator: ".").map(String.init)
        // Claims changed after signing.
        let forged = [parts[0], T.part(T.claims(["sub": "mallory"])), parts[2]].joined(separator: ".")
        expectRefused(auth, forged, "invalid_signature")
        // Signed with another secret.
        expectRefused(auth, T.token(claims: T.claims(), sign: T.hs256("another-secret-0123456789abcdef-012345")), "invalid_signature")
        // Truncated, emptied, or flipped signature.
        expectRefused(auth, parts[0] + "." + parts[1] + "." + parts[2].dropLast(4), "invalid_signature")
        expectRefused(auth, parts[0] + "." + parts[1] + ".", "invalid_signature")
        var flipped = Base64URL.decode(parts[2].utf8)!
        flipped[0] ^= 1
        expectRefused(auth, parts[0] + "." + parts[1] + "." + Base64URL.encode(flipped), "invalid_signature")
    }

    @Test func expiryIsRequiredAndEnforcedWithLeeway() async throws {
        let auth = try await T.authenticator()
        expectRefused(auth, T.token(claims: T.claims(["exp": NSNull()])), "missing_expiry")
        expectRefused(auth, T.token(claims: T.claims(["exp": T.now - 10])), "token_expired")
        expectRefused(auth, T.token(claims: T.claims(["exp": "tomorrow"])), "malformed_token")
        // A few seconds of clock skew are forgiven.
        #expect(try auth.verify(T.token(claims: T.claims(["exp": T.now - 3])), at: T.now).user == "alice")
    }

    @Test func notBeforeAndIssuedAtInTheFutureAreRefused() async throws {
        let auth = try await T.authenticator()
        expectRefused(auth, T.token(claims: T.claims(["nbf": T.now + 60])), "token_not_yet_valid")
        expectRefused(auth, T.token(claims: T.claims(["iat": T.now + 60])), "token_not_yet_valid")
        #expect(try auth.verify(T.token(claims: T.claims(["nbf": T.now + 3, "iat": T.now + 3])), at: T.now).user == "alice")
    }

    @Test func tokensLivingLongerThanTheMaximumAreRefused() async throws {
        let auth = try await T.authenticator()
        expectRefused(auth, T.token(claims: T.claims(["exp": T.now + 25 * 3600])), "token_lifetime_too_long")
        #expect(try auth.verify(T.token(claims: T.claims(["exp": T.now + 24 * 3600])), at: T.now).user == "alice")
        let strict = try await T.authenticator { $0.maxTokenLifetime = .seconds(600) }
        expectRefused(strict, T.token(claims: T.claims()), "token_lifetime_too_long")
        await #expect(throws: AuthError.self) { _ = try await strict.mint(user: "alice", ttl: .seconds(3600)) }
    }

    @Test func unsignedTokensAreRefused() async throws {
        let auth = try await T.authenticator()
        let claims = T.part(T.claims())
        for alg in ["none", "None", "NONE"] {
            let header = T.part(["alg": alg, "typ": "JWT"])
            expectRefused(auth, header + "." + claims + ".", "unsecured_token")
            // Even with a signature that would verify for HS256.
            expectRefused(auth, T.token(header: ["alg": alg, "typ": "JWT"], claims: T.claims()), "unsecured_token")
        }
        // Exactly as an attacker writes it by hand.
        let handMade = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + claims + "."
        expectRefused(auth, handMade, "unsecured_token")
        expectRefused(auth, T.token(header: ["typ": "JWT"], claims: T.claims()), "malformed_token")
    }

    /// The classic confusion attack: a token that says HS256, MACed with the public key's PEM text as
    /// the secret, sent to a node that verifies RS256 or ES256 with that public key.
    @Test func publicKeyUsedAsHMACSecretIsRefused() async throws {
        for pem in [T.ecKey.publicKey.pemRepresentation, T.rsaKey.publicKey.pemRepresentation] {
            let path = try T.file(pem)
            let auth = try await Authenticator.load(config { $0.jwtKeyFile = path })
            for secret in [pem, pem.trimmingCharacters(in: .whitespacesAndNewlines), pem + "\n"] {
                let forged = T.token(header: ["alg": "HS256", "typ": "JWT"], claims: T.claims(), sign: T.hs256(secret))
                expectRefused(auth, forged, "wrong_algorithm")
            }
            // Also with the key's DER bytes.
            let der = Array(Data(base64Encoded: pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined())!)
            expectRefused(auth, T.token(claims: T.claims(), sign: T.hs256(bytes: der)), "wrong_algorithm")
        }
    }

    @Test func algorithmMustBeTheKeys() async throws {
        let ecPath = try T.file(T.ecKey.publicKey.pemRepresentation)
        let ec = try await Authenticator.load(config { $0.jwtKeyFile = ecPath })
        expectRefused(ec, T.token(header: ["alg": "RS256"], claims: T.claims(), sign: T.rs256()), "wrong_algorithm")
        expectRefused(ec, T.token(header: ["alg": "ES384"], claims: T.claims(), sign: T.es256()), "wrong_algorithm")
        let hs = try await T.authenticator()
        expectRefused(hs, T.token(header: ["alg": "HS512"], claims: T.claims()), "wrong_algorithm")
    }

    @Test func issuerAndAudienceAreCheckedWhenConfigured() async throws {
        let auth = try await T.authenticator { $0.issuer = "https://id.example"; $0.audience = "sse" }
        #expect(try auth.verify(T.token(claims: T.claims(["iss": "https://id.example", "aud": "sse"])), at: T.now).user == "alice")
        #expect(try auth.verify(T.token(claims: T.claims(["iss": "https://id.example", "aud": ["web", "sse"]])), at: T.now).user == "alice")
        expectRefused(auth, T.token(claims: T.claims(["iss": "https://evil.example", "aud": "sse"])), "wrong_issuer")
        expectRefused(auth, T.token(claims: T.claims(["aud": "sse"])), "wrong_issuer")
        expectRefused(auth, T.token(claims: T.claims(["iss": "https://id.example", "aud": "web"])), "wrong_audience")
        expectRefused(auth, T.token(claims: T.claims(["iss": "https://id.example", "aud": ["web"]])), "wrong_audience")
        expectRefused(auth, T.token(claims: T.claims(["iss": "https://id.example"])), "wrong_audience")
        // Unchecked when not configured.
        let open = try await T.authenticator()
        #expect(try open.verify(T.token(claims: T.claims(["iss": "anyone", "aud": "anything"])), at: T.now).user == "alice")
        // Minted tokens carry what the node checks.
        #expect(try auth.verify(try await auth.mint(user: "alice", ttl: .seconds(60))).user == "alice")
    }

    @Test func oversizeTokensAreRefusedBeforeParsing() async throws {
        let auth = try await T.authenticator()
        let padding = String(repeating: "x", count: Authenticator.maxTokenSize)
        expectRefused(auth, T.token(claims: T.claims(["padding": padding])), "token_too_large")
        expectRefused(auth, String(repeating: "a", count: Authenticator.maxTokenSize + 1), "token_too_large")
        // Just under the cap is fine.
        let base = T.token(claims: T.claims(["padding": ""]))
        let fits = String(repeating: "x", count: (Authenticator.maxTokenSize - base.utf8.count) * 3 / 4 - 2)
        let token = T.token(claims: T.claims(["padding": fits]))
        #expect(token.utf8.count <= Authenticator.maxTokenSize)
        #expect(try auth.verify(token, at: T.now).user == "alice")
    }

    @Test func malformedTokensAreRefused() async throws {
        let auth = try await T.authenticator()
        let good = T.token(claims: T.claims())
        let parts = good.split(separator: ".").map(String.init)
        for token in ["", "abc", "a.b", parts.joined(separator: ".") + ".x", "!!!." + parts[1] + "." + parts[2], "e30=." + parts[1] + "." + parts[2]] {
            expectRefused(auth, token, "malformed_token")
        }
        let notJSON = T.token(claims: [:]).replacingOccurrences(of: T.part([:]), with: Base64URL.encode(Array("not json".utf8)))
        expectRefused(auth, notJSON, "invalid_signature")
        // Signed, but the payload is not an object of claims.
        let array = Base64URL.encode(Array("[1,2]".utf8))
        let header = T.part(["alg": "HS256"])
        let signed = header + "." + array
        expectRefused(auth, signed + "." + Base64URL.encode(T.hs256(T.secret)(Array(signed.utf8))), "malformed_token")
        expectRefused(auth, T.token(claims: T.claims(["channels": "news"])), "malformed_token")
        expectRefused(auth, T.token(header: ["alg": "HS256", "crit": ["b64"], "b64": false], claims: T.claims()), "malformed_token")
    }

    @Test func claimsOutsideTheRulesAreRefused() async throws {
        let auth = try await T.authenticator()
        let bad: [[String: Any]] = [
            ["sub": NSNull()], ["sub": ""], ["sub": "al\u{0}ice"], ["sub": "a\nb"], ["sub": String(repeating: "é", count: 129)],
            ["tenant": "ac me"], ["tenant": ""], ["tenant": String(repeating: "a", count: 65)], ["tenant": "acmé"], ["tenant": "a/b"],
            ["sid": ""], ["sid": "x\u{7}"],
            ["channels": ["new*s"]], ["channels": [""]], ["channels": ["**"]],
            ["publish": ["bogus:x"]], ["publish": ["user"]], ["publish": ["broadcast:x"]], ["publish": ["user:"]], ["publish": ["channel:a*b"]],
        ]
        for extra in bad {
            expectRefused(auth, T.token(claims: T.claims(extra)), "invalid_claim")
        }
        let fine = try auth.verify(T.token(claims: T.claims([
            "sub": String(repeating: "é", count: 128), "tenant": String(repeating: "a", count: 64) + "", "sid": "日本",
        ])), at: T.now)
        #expect(fine.user.utf8.count == 256)
        #expect(fine.channels == .none && fine.publish == nil)
    }

    // MARK: Loading

    @Test func unusableKeysAreRefusedWhenLoading() async throws {
        func loadError(_ configure: (inout AuthConfiguration) -> Void) async -> String? {
            do {
                _ = try await Authenticator.load(config(configure))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(await loadError { $0.jwtSecret = "too short" }?.contains("at least 32 bytes") == true)
        #expect(await loadError { $0.jwtKeyFile = "/nonexistent/key.pem" }?.contains("cannot read") == true)
        let garbage = try T.file("hello")
        #expect(await loadError { $0.jwtKeyFile = garbage }?.contains("neither a PEM key nor a JWKS") == true)
        let badPEM = try T.file("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        #expect(await loadError { $0.jwtKeyFile = badPEM }?.contains("not an RSA or EC P-256 key") == true)
        let certificate = try T.file("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        #expect(await loadError { $0.jwtKeyFile = certificate } != nil)
        let shortRSA = try T.file(try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)).pemRepresentation)
        #expect(await loadError { $0.jwtKeyFile = shortRSA }?.contains("at least 2048") == true)
        let p384 = try T.file(P384.Signing.PrivateKey().publicKey.pemRepresentation)
        #expect(await loadError { $0.jwtKeyFile = p384 }?.contains("not an RSA or EC P-256 key") == true)
        let encrypted = try T.file("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
        #expect(await loadError { $0.jwtKeyFile = encrypted }?.contains("encrypted") == true)
        let emptyJWKS = try T.file(#"{"keys": []}"#, suffix: ".json")
        #expect(await loadError { $0.jwtKeyFile = emptyJWKS }?.contains("no keys") == true)
        let noKids = try T.file(#"{"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]}"#)
        #expect(await loadError { $0.jwtKeyFile = noKids }?.contains("needs one on each") == true)
        let notJWKS = try T.file(#"{"hello": 1}"#)
        #expect(await loadError { $0.jwtKeyFile = notJWKS }?.contains("not a JWKS") == true)
    }

    private func config(_ configure: (inout AuthConfiguration) -> Void) -> AuthConfiguration {
        var configuration = AuthConfiguration()
        configure(&configuration)
        return configuration
    }
}
