import CryptoExtras
import Foundation
import JWTKit
import Logging

extension Authenticator {
    /// Shortest accepted HS256 secret: the hash's own size (jwt-kit asserts it, RFC 7518 §3.2 asks it).
    public static let minimumSecretLength = 32
    /// Fewest different bytes in an HS256 secret: 32 of one byte has the length but none of the strength.
    public static let minimumDistinctSecretBytes = 8
    /// Shortest accepted API key: 16 bytes, 128 bits when random.
    public static let minimumAPIKeyLength = 16

    /// Builds an authenticator: reads `jwtKeyFile`, if any, and prepares every key once. With `jwksURL`
    /// it also gets a `JWKSSource`, which `Node` runs to fetch those keys; until then they are missing.
    ///
    /// Throws a `ConfigurationError` naming the setting when one is out of range (a secret under 32
    /// bytes, say), the key file cannot be read, or it holds no key this node can use. Warnings (no
    /// audience for an identity provider's keys) go to `logger`.
    public static func load(
        _ configuration: AuthConfiguration, logger: Logger = Logger(label: "sse-fanout", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws(ConfigurationError) -> Authenticator {
        try configuration.validate()
        var keys: [VerificationKey] = []
        var signingKey: SigningKey?
        // Keys of an identity provider, which may sign tokens for other services with them as well.
        var issuerKeys = configuration.jwksURL != nil
        if let path = configuration.jwtKeyFile {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError("auth.jwtKeyFile: cannot read '\(path)': \(error.localizedDescription)")
            }
            let (fileKeys, fileSigningKey) = try await loadKeyFile(text, path: path)
            keys += fileKeys
            signingKey = fileSigningKey
            // A JWKS or a lone public key: someone else signs. A private key: this node's own tokens.
            if isJWKS(text) || fileSigningKey == nil { issuerKeys = true }
        }
        if let secret = configuration.jwtSecret {
            let collection = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            let algorithm = try await key(from: collection, kid: nil, alg: nil, setting: "auth.jwtSecret")
            keys.append(VerificationKey(kid: nil, algorithm: algorithm))
            // A private key from the file, when there is one, signs; the secret otherwise.
            if signingKey == nil { signingKey = SigningKey(keys: collection, kid: nil, algorithmName: algorithm.name) }
        }
        if issuerKeys, configuration.audience == nil, !configuration.disabled {
            logger.warning(
                "auth.audience (--jwt-audience) is not set: 'aud' is not checked, so a token the same identity provider minted for another service is accepted here"
            )
        }
        let ring = KeyRing(configured: keys)
        var source: JWKSSource?
        if let url = configuration.jwksURL, !configuration.disabled {
            source = JWKSSource(settings: JWKSSource.Settings(url: url, refresh: configuration.jwksRefresh), ring: ring, logger: logger)
        }
        return Authenticator(configuration: configuration, keyRing: ring, jwks: source, signingKey: signingKey)
    }

    static func isJWKS(_ text: String) -> Bool {
        text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{")
    }

    /// The keys of a key file's text: a PEM key, or a JWKS.
    static func loadKeyFile(_ text: String, path: String) async throws(ConfigurationError) -> ([VerificationKey], SigningKey?) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") {
            let (keys, signingKey) = try await loadJWKS(trimmed, setting: "auth.jwtKeyFile", origin: path)
            return (keys, signingKey)
        }
        guard trimmed.contains("-----BEGIN ") else {
            throw ConfigurationError("auth.jwtKeyFile: '\(path)' is neither a PEM key nor a JWKS (JSON) file")
        }
        guard let (label, pem) = keyBlock(in: trimmed) else {
            if trimmed.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
                throw ConfigurationError("auth.jwtKeyFile: the private key in '\(path)' is encrypted; give it unencrypted")
            }
            throw ConfigurationError("auth.jwtKeyFile: '\(path)' holds no PUBLIC KEY or PRIVATE KEY PEM block")
        }
        let setting = "auth.jwtKeyFile"
        let verifier = JWTKeyCollection()
        if label.hasSuffix("PUBLIC KEY") {
            if let key = try? ES256PublicKey(pem: pem) {
                await verifier.add(ecdsa: key)
            } else {
                let key = try rsaKey(path: path) { () throws -> JWTKit.Insecure.RSA.PublicKey in
                    let backing = try _RSA.Signing.PublicKey(unsafePEMRepresentation: pem)
                    try checkSize(backing.keySizeInBits, path: path)
                    return try JWTKit.Insecure.RSA.PublicKey(backing: backing)
                }
                await verifier.add(rsa: key, digestAlgorithm: .sha256)
            }
            return ([VerificationKey(kid: nil, algorithm: try await key(from: verifier, kid: nil, alg: nil, setting: setting))], nil)
        }
        // The public half verifies; the private half only ever signs, from its own collection.
        let signer = JWTKeyCollection()
        if let key = try? ES256PrivateKey(pem: pem) {
            await verifier.add(ecdsa: key.publicKey)
            await signer.add(ecdsa: key)
        } else {
            let key = try rsaKey(path: path) { () throws -> JWTKit.Insecure.RSA.PrivateKey in
                let backing = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem)
                try checkSize(backing.keySizeInBits, path: path)
                return try JWTKit.Insecure.RSA.PrivateKey(backing: backing)
            }
            await verifier.add(rsa: key.publicKey, digestAlgorithm: .sha256)
            await signer.add(rsa: key, digestAlgorithm: .sha256)
        }
        let algorithm = try await key(from: verifier, kid: nil, alg: nil, setting: setting)
        return ([VerificationKey(kid: nil, algorithm: algorithm)], SigningKey(keys: signer, kid: nil, algorithmName: algorithm.name))
    }

    /// The first key block of a PEM file, with its label, e.g. `PRIVATE KEY`. Other blocks are skipped:
    /// `openssl ecparam -genkey` writes an `EC PARAMETERS` block before the key.
    static func keyBlock(in text: String) -> (label: String, pem: String)? {
        let labels = ["PUBLIC KEY", "RSA PUBLIC KEY", "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"]
        var search = text.startIndex
        while let begin = text.range(of: "-----BEGIN ", range: search..<text.endIndex) {
            guard let labelEnd = text.range(of: "-----", range: begin.upperBound..<text.endIndex) else { return nil }
            let label = String(text[begin.upperBound..<labelEnd.lowerBound])
            let end = "-----END \(label)-----"
            guard let endRange = text.range(of: end, range: labelEnd.upperBound..<text.endIndex) else { return nil }
            if labels.contains(label) { return (label, String(text[begin.lowerBound..<endRange.upperBound])) }
            search = endRange.upperBound
        }
        return nil
    }

    /// An RSA key from `make`, or an error that says why not (too short, or not RSA nor EC P-256 at all).
    private static func rsaKey<Key>(path: String, _ make: () throws -> Key) throws(ConfigurationError) -> Key {
        do {
            return try make()
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("auth.jwtKeyFile: '\(path)' is not an RSA or EC P-256 key in PEM form")
        }
    }

    /// RSA keys are read with swift-crypto's unchecked parser so that a short one is named as such here:
    /// jwt-kit refuses keys under 2048 bits too, but with an error type it does not export.
    private static func checkSize(_ bits: Int, path: String) throws(ConfigurationError) {
        guard bits >= 2048 else {
            throw ConfigurationError("auth.jwtKeyFile: the RSA key in '\(path)' has \(bits) bits; at least 2048 are needed")
        }
    }

    /// A JWKS: every key, each with the algorithm its `alg` names, or else its type's usual one
    /// (RSA: RS256; EC: ES256, ES384 or ES512 by curve; OKP: EdDSA). `setting` and `origin` (the file,
    /// the URL) name it in errors.
    ///
    /// `strict` (a key file, which someone wrote for this node): a key it cannot use is an error. Not
    /// strict (a JWKS fetched from an identity provider, which publishes keys for many kinds of clients):
    /// such keys are skipped, encryption keys (`use: enc`) too, and only a set with no usable key at all is
    /// an error; a private key in it is never used to sign.
    static func loadJWKS(
        _ json: String, setting: String, origin: String, strict: Bool = true
    ) async throws(ConfigurationError) -> (keys: [VerificationKey], signingKey: SigningKey?) {
        let jwks: [JWK]
        do {
            if strict {
                jwks = try JSONDecoder().decode(JWKS.self, from: Data(json.utf8)).keys
            } else {
                jwks = try JSONDecoder().decode(FetchedJWKS.self, from: Data(json.utf8)).keys.filter { $0.use != "enc" }.compactMap(\.jwk)
            }
        } catch {
            throw ConfigurationError("\(setting): '\(origin)' is not a JWKS of RSA, EC or OKP keys")
        }
        guard !jwks.isEmpty else { throw ConfigurationError("\(setting): the JWKS in '\(origin)' has no keys\(strict ? "" : " this node can use")") }
        var keys: [VerificationKey] = []
        var signingKey: SigningKey?
        var seen = Set<String>()
        for (index, jwk) in jwks.enumerated() {
            let named = "\(setting): key \(jwk.keyIdentifier.map { "'\($0.string)'" } ?? "#\(index + 1)") of '\(origin)'"
            do {
                let (key, signer) = try await loadJWK(jwk, named: named, alone: jwks.count == 1, seen: &seen)
                keys.append(key)
                if strict, signingKey == nil { signingKey = signer }
            } catch {
                if strict { throw error }
            }
        }
        guard !keys.isEmpty else { throw ConfigurationError("\(setting): the JWKS in '\(origin)' has no keys this node can use") }
        return (keys, signingKey)
    }

    /// One key of a JWKS, and the key it signs with when it holds a private key. `seen` collects the kids
    /// so far, each of which must be unique; a key without one must be `alone` in its set.
    private static func loadJWK(
        _ jwk: JWK, named setting: String, alone: Bool, seen: inout Set<String>
    ) async throws(ConfigurationError) -> (VerificationKey, SigningKey?) {
        var jwk = jwk
        let kid = jwk.keyIdentifier?.string
        if let kid {
            guard seen.insert(kid).inserted else { throw ConfigurationError("\(setting): its 'kid' is not unique") }
        } else if !alone {
            throw ConfigurationError("\(setting) has no 'kid'; a JWKS with several keys needs one on each")
        }
        guard let alg = jwk.algorithm ?? defaultAlgorithm(of: jwk) else {
            throw ConfigurationError("\(setting) has no 'alg', and its type has no usual algorithm")
        }
        // jwt-kit files JWKs by kid; a lone key without one gets a name only jwt-kit sees.
        let collectionKID = kid ?? "default"
        jwk.keyIdentifier = JWKIdentifier(string: collectionKID)
        let collection = JWTKeyCollection()
        do {
            try await collection.add(jwk: jwk)
        } catch {
            throw ConfigurationError("\(setting) is not a usable key")
        }
        let algorithm = try await key(from: collection, kid: collectionKID, alg: alg.rawValue, setting: setting)
        let signer = jwk.privateExponent != nil ? SigningKey(keys: collection, kid: kid, algorithmName: algorithm.name) : nil
        return (VerificationKey(kid: kid, algorithm: algorithm), signer)
    }

    /// A fetched JWKS, each key read on its own: one of a type jwt-kit does not know (`oct`, say) is
    /// skipped instead of failing the whole set.
    private struct FetchedJWKS: Decodable {
        struct Entry: Decodable {
            var jwk: JWK?
            var use: String?

            private enum CodingKeys: String, CodingKey { case use }

            init(from decoder: any Decoder) throws {
                jwk = try? JWK(from: decoder)
                use = try? decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .use)
            }
        }

        var keys: [Entry]
    }

    private static func defaultAlgorithm(of jwk: JWK) -> JWK.Algorithm? {
        switch jwk.keyType {
        case .rsa: return .rs256
        case .ecdsa:
            switch jwk.curve?.rawValue {
            case "P-256": return .es256
            case "P-384": return .es384
            case "P-521": return .es512
            default: return nil
            }
        case .octetKeyPair: return .eddsa
        default: return nil
        }
    }

    private static func key(
        from collection: JWTKeyCollection, kid: String?, alg: String?, setting: String
    ) async throws(ConfigurationError) -> any JWTAlgorithm {
        do {
            return try await collection.getKey(for: kid.map { JWKIdentifier(string: $0) }, alg: alg)
        } catch {
            throw ConfigurationError("\(setting) is not a key for its algorithm (\(alg ?? "?"))")
        }
    }
}
