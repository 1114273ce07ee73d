import ArgumentParser
import Foundation
import SSEFanout

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mints a token for a subscriber or a publisher, and prints it.",
        discussion: """
            Signs with the HS256 secret, or with the private key (RSA or EC P-256 PEM, or a JWKS with a private key) \
            in the key file. Without the flags they come from SSE_FANOUT_AUTH_JWT_SECRET and SSE_FANOUT_AUTH_JWT_KEY_FILE, \
            and the issuer and audience from SSE_FANOUT_AUTH_ISSUER and SSE_FANOUT_AUTH_AUDIENCE.
            Example: sse-fanout token --user alice --channel news --ttl 1h
            """
    )

    @Option(help: "The user (the token's sub).")
    var user: String

    @Option(help: "Channel the token may subscribe to: a name or a prefix* pattern; repeatable.")
    var channel: [String] = []

    @Option(help: "How long the token is valid: 30s, 15m, 1h, 2d or plain seconds.")
    var ttl = "1h"

    @Option(help: "The tenant the token belongs to, and confines publishing to.")
    var tenant: String?

    @Option(help: "Session id (the token's sid).")
    var sid: String?

    @Option(help: "Target the token may publish to: *, broadcast, user:alice, channel:news-*, tenant:acme, …; repeatable.")
    var publish: [String] = []

    @Option(name: .customLong("jwt-secret"), help: "HS256 secret, at least 32 bytes. [SSE_FANOUT_AUTH_JWT_SECRET]")
    var jwtSecret: String?

    @Option(name: .customLong("jwt-key-file"), help: "PEM private key or JWKS file to sign with. [SSE_FANOUT_AUTH_JWT_KEY_FILE]")
    var jwtKeyFile: String?

    @Option(help: "The token's iss, for nodes that check it. [SSE_FANOUT_AUTH_ISSUER]")
    var issuer: String?

    @Option(help: "The token's aud, for nodes that check it. [SSE_FANOUT_AUTH_AUDIENCE]")
    var audience: String?

    func run() async throws {
        guard let lifetime = DurationText.parse(ttl) else {
            throw ValidationError("--ttl must be a positive whole number of seconds, or one with s, m, h or d after it; got '\(ttl)'")
        }
        let environment = ProcessInfo.processInfo.environment
        func setting(_ flag: String?, _ name: String) -> String? {
            (flag ?? environment[name]).flatMap { $0.isEmpty ? nil : $0 }
        }
        var configuration = AuthConfiguration()
        // Either flag replaces both environment variables, so a flag never mixes with a key from the environment.
        if jwtSecret != nil || jwtKeyFile != nil {
            configuration.jwtSecret = jwtSecret
            configuration.jwtKeyFile = jwtKeyFile
        } else {
            configuration.jwtSecret = setting(nil, "SSE_FANOUT_AUTH_JWT_SECRET")
            configuration.jwtKeyFile = setting(nil, "SSE_FANOUT_AUTH_JWT_KEY_FILE")
        }
        guard configuration.jwtSecret == nil || configuration.jwtKeyFile == nil else {
            throw ValidationError("give --jwt-secret or --jwt-key-file, not both")
        }
        guard configuration.isConfigured else {
            throw ValidationError("a signing key is needed: --jwt-secret, --jwt-key-file, or SSE_FANOUT_AUTH_JWT_SECRET / SSE_FANOUT_AUTH_JWT_KEY_FILE")
        }
        configuration.issuer = setting(issuer, "SSE_FANOUT_AUTH_ISSUER")
        configuration.audience = setting(audience, "SSE_FANOUT_AUTH_AUDIENCE")
        if lifetime > configuration.maxTokenLifetime {
            FileHandle.standardError.write(Data("warning: nodes with the default auth.maxTokenLifetime (24 h) refuse tokens valid for longer\n".utf8))
            configuration.maxTokenLifetime = lifetime
        }

        let authenticator: Authenticator
        do {
            authenticator = try await Authenticator.load(configuration)
        } catch {
            throw ValidationError("\(error)")
        }
        do {
            let token = try await authenticator.mint(
                user: user, tenant: tenant, sid: sid, channels: channel, publish: publish, ttl: lifetime
            )
            print(token)
        } catch {
            throw ValidationError(error.message)
        }
    }
}
