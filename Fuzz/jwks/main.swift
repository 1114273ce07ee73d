// A JWKS as an identity provider's `--jwks-url` serves it: any bytes up to the fetch's 1 MiB bound,
// read leniently (keys the node cannot use are skipped). It either yields keys, each named by its
// `kid` at most once and each able to say no to a token it did not sign, or a refusal with a message.
import Dispatch
import Foundation
import NIOConcurrencyHelpers

@testable import SSEFanout

/// A token no key of a fuzzed JWKS signed.
let foreign = Array("eyJhbGciOiJFUzI1NiIsImtpZCI6ImEifQ.eyJzdWIiOiJ4In0".utf8)
let foreignSignature = [UInt8](repeating: 7, count: 64)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let json = text(start, count)
    let outcome = run { () async -> Result<[VerificationKey], ConfigurationError> in
        do throws(ConfigurationError) {
            return .success(try await Authenticator.loadJWKS(json, setting: "auth.jwksUrl", origin: "the JWKS URL", strict: false).keys)
        } catch {
            return .failure(error)
        }
    }
    switch outcome {
    case .success(let keys):
        require(!keys.isEmpty, "a JWKS read as usable with no key")
        let kids = keys.compactMap(\.kid)
        require(Set(kids).count == kids.count, "a kid named twice")
        for key in keys {
            require((try? key.algorithm.verify(foreignSignature, signs: foreign)) != true, "a key accepted a signature it did not make")
        }
    case .failure(let error):
        require(!"\(error)".isEmpty, "a refusal without a message")
    }
    return 0
}
