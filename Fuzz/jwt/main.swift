// Subscribers' and publishers' tokens: Authenticator.verify with an HS256 secret configured.
//
// An input that starts with `{` is `<header JSON>\n<claims JSON>`: the target signs it with the secret, so
// that the claims are read and checked (a token signed with anything else stops at the signature).
// Any other input is a compact token as it arrives, checked as is.
import Crypto
import Dispatch
import Foundation
import NIOHTTP1

@testable import SSEFanout

let secret = "fuzz-secret-0123456789abcdef-0123456789"
/// Tokens in the corpus are valid at this time (exp 1700003600).
let now: Double = 1_700_000_000

final class Loaded: @unchecked Sendable {
    var authenticator: Authenticator?
}

let authenticator: Authenticator = {
    var configuration = AuthConfiguration()
    configuration.jwtSecret = secret
    configuration.apiKeys = ["fuzz-api-key-0123456789"]
    let loaded = Loaded()
    let done = DispatchSemaphore(value: 0)
    Task { [configuration] in
        loaded.authenticator = try! await Authenticator.load(configuration)
        done.signal()
    }
    done.wait()
    return loaded.authenticator!
}()

func signed(header: ArraySlice<UInt8>, claims: ArraySlice<UInt8>) -> String {
    let input = Base64URL.encode(header) + "." + Base64URL.encode(claims)
    let signature = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
    return input + "." + Base64URL.encode(Array(signature))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = bytes(start, count)
    let token: String
    if input.first == UInt8(ascii: "{") {
        let newline = input.firstIndex(of: 0x0A) ?? input.endIndex
        token = signed(header: input[..<newline], claims: input[min(newline + 1, input.endIndex)...])
    } else {
        token = String(decoding: input, as: UTF8.self)
    }

    if let claims = try? authenticator.verify(token, at: now) {
        require(token.utf8.count <= Authenticator.maxTokenSize, "a token over the size limit was accepted")
        require(ClaimRules.isValidIdentifier(claims.user), "invalid sub accepted")
        if let tenant = claims.tenant { require(ClaimRules.isValidTenant(tenant), "invalid tenant accepted") }
        if let sid = claims.sessionID { require(ClaimRules.isValidIdentifier(sid), "invalid sid accepted") }
        require(claims.expiresAt > now - Authenticator.leeway, "expired token accepted")
        // As HTTPHandler and StreamRequest use them.
        _ = Int64(claims.expiresAt * 1000)
        _ = claims.allowsChannel("news")
        _ = claims.publish?.allows(kind: .user, tenant: claims.tenant, id: claims.user)
        if let grant = claims.publish {
            _ = PublisherCredential.token(claims).confinedTenant
            _ = grant.patterns.count
        }
    }

    // The same token as a publisher's `Authorization: Bearer` (API key or token).
    var headers = HTTPHeaders()
    headers.add(name: "Authorization", value: "Bearer " + token)
    _ = try? authenticator.publisher(headers: headers)
    return 0
}
