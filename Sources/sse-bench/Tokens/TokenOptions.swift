import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOHTTP1
import SSEFanout

/// Options of the scenarios whose streams can authenticate (`churn`, `idle`): a key to mint one token per
/// connection with, before the run starts, through sse-fanout's own `Authenticator`, and where each
/// request carries its token. Without a key, streams send no token (for a node run with `--no-auth`, or
/// a standalone node without a key).
struct TokenOptions: ParsableArguments {
    @Option(name: .customLong("jwt-secret"), help: "Mint a token per connection with this HS256 secret (at least 32 bytes), before the run.")
    var jwtSecret: String?

    @Option(name: .customLong("jwt-key-file"), help: "Mint a token per connection with this private key (PEM; EC P-256: ES256, RSA: RS256), before the run.")
    var jwtKeyFile: String?

    @Option(name: .customLong("token-in"), help: "Where each request carries its token: header (Authorization: Bearer) or query (?token=).")
    var placement: TokenPlacement = .header

    @Option(name: .customLong("token-ttl"), help: "Seconds each token is valid (at most 86400, a node's default limit).")
    var ttl: Int = 3600

    @Option(name: .customLong("tokens"), help: "Distinct tokens to mint; connections beyond that reuse them in turn (default: one per connection).")
    var count: Int?

    /// Whether streams send tokens.
    var enabled: Bool { jwtSecret != nil || jwtKeyFile != nil }

    func validate() throws {
        guard jwtSecret == nil || jwtKeyFile == nil else { throw ValidationError("give --jwt-secret or --jwt-key-file, not both") }
        guard (1...86_400).contains(ttl) else { throw ValidationError("--token-ttl must be 1…86400 seconds") }
        if let count, count <= 0 { throw ValidationError("--tokens must be positive") }
        if let jwtSecret, jwtSecret.utf8.count < Authenticator.minimumSecretLength {
            throw ValidationError("--jwt-secret must be at least \(Authenticator.minimumSecretLength) bytes")
        }
    }

    /// Mints `--tokens` (else `defaultCount`) tokens, token `i` for user `user(i)` with `channels` granted,
    /// and checks a sample of them as a node would; nil without a key. Says on standard error what it does,
    /// since ES256 signing takes seconds for tens of thousands.
    func mint(defaultCount: Int, channels: [String], user: (Int) -> String) async throws -> StreamTokens? {
        guard enabled else { return nil }
        var configuration = AuthConfiguration()
        configuration.jwtSecret = jwtSecret
        configuration.jwtKeyFile = jwtKeyFile
        let authenticator: Authenticator
        do {
            authenticator = try await Authenticator.load(configuration)
        } catch {
            throw ValidationError("\(error)")
        }
        guard authenticator.canMint, let algorithm = authenticator.algorithms.first else {
            throw ValidationError("--jwt-key-file must hold a private key to sign with")
        }
        let count = count ?? max(1, defaultCount)
        FileHandle.standardError.write(Data("minting \(count) \(algorithm) tokens before the run\n".utf8))
        let started = ContinuousClock.now
        var tokens: [String] = []
        tokens.reserveCapacity(count)
        for index in 0..<count {
            do {
                tokens.append(try await authenticator.mint(user: user(index), channels: channels, ttl: .seconds(ttl)))
            } catch {
                throw ValidationError("cannot mint a token: \(error.message)")
            }
        }
        let mintSeconds = Self.seconds(ContinuousClock.now - started)

        // The node runs these checks on every stream (on the request as this tool sends it); here they also
        // prove the tokens are accepted. First the token alone, then the request.
        let sample = Array(tokens.prefix(2000))
        // CPU time of this thread, not the clock: the machine may be busy with other work. No await in
        // these loops, so the task stays on one thread.
        let verifyStarted = Self.threadCPUSeconds()
        for token in sample {
            do {
                _ = try authenticator.verify(token)
            } catch {
                throw ValidationError("a minted token does not verify: \(error.message)")
            }
        }
        let verifyMicroseconds = (Self.threadCPUSeconds() - verifyStarted) * 1e6 / Double(sample.count)
        let requests = sample.map { token in
            placement == .header
                ? (HTTPHeaders([("Authorization", "Bearer \(token)")]), "/events") : (HTTPHeaders(), "/events?token=\(token)")
        }
        let checkStarted = Self.threadCPUSeconds()
        for (headers, uri) in requests {
            let claims: VerifiedClaims?
            do {
                claims = try authenticator.subscriber(headers: headers, uri: uri)
            } catch {
                throw ValidationError("a request with a minted token is refused: \(error.message)")
            }
            guard claims != nil else { throw ValidationError("the node's checks are off for this key") }
        }
        let checkMicroseconds = (Self.threadCPUSeconds() - checkStarted) * 1e6 / Double(sample.count)

        let summary = TokenSummary(
            algorithm: algorithm, placement: placement, tokens: count, tokenBytes: tokens[0].utf8.count, mintSeconds: mintSeconds,
            verifyMicroseconds: verifyMicroseconds, checkMicroseconds: checkMicroseconds)
        FileHandle.standardError.write(Data("tokens: \(summary.text)\n".utf8))
        return StreamTokens(tokens: tokens, placement: placement, summary: summary)
    }

    /// CPU time the calling thread has used, in seconds.
    private static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
