import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Keeps the keys of the JWKS at `auth.jwksUrl` in the node's `KeyRing`, so that an identity provider can
/// rotate its keys without a restart: fetched when the node starts, every `auth.jwksRefresh`, and when a
/// token names a `kid` no key has (a key added since), at most once per `minimumInterval` so that tokens
/// with made-up kids cannot make the node hammer the identity provider.
///
/// A fetch is bounded in size and time. One that fails keeps the last good keys and logs a warning
/// (rate-limited), and is tried again after `minimumInterval`; until a first one succeeds the node is not
/// ready. Runs (`run`) until its task is cancelled or shut down.
final class JWKSSource: Service, Sendable {
    /// GETs `url`, refusing an answer longer than `maxSize` bytes. It must give up when its task is
    /// cancelled: `JWKSSource` cancels it after `timeout`.
    typealias Fetch = @Sendable (_ url: String, _ maxSize: Int, _ timeout: Duration) async throws -> [UInt8]

    struct Settings: Sendable {
        var url: String
        /// How often the keys are fetched when nothing asks sooner.
        var refresh: Duration = .seconds(300)
        /// Fetches asked for by unknown kids, and retries after a failure, come at least this long after
        /// the fetch before.
        var minimumInterval: Duration = .seconds(10)
        var maxSize = JWKSSource.maxSize
        var timeout = JWKSSource.timeout
        /// How often `run` looks whether a fetch is due.
        var tick: Duration = .milliseconds(250)
    }

    /// A JWKS is a few kilobytes; this is far past any real one, and little to hold.
    static let maxSize = 1024 * 1024
    /// A fetch that takes longer is given up (and counts as failed).
    static let timeout: Duration = .seconds(5)

    /// Why a fetch gave no keys, in words for the log and `/readyz`.
    struct FetchError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private struct State {
        var lastAttempt: ContinuousClock.Instant?
        var lastFailed = false
        /// A fetch has given keys.
        var hasKeys = false
        /// A token named an unknown kid since the last fetch began.
        var missed = false
        var lastError: String?
    }

    let settings: Settings
    private let ring: KeyRing
    private let logger: Logger
    private let fetch: Fetch
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = NIOLockedValueBox(State())
    /// An identity provider that stays away would otherwise log a line per retry.
    private let failureLog = RateLimitedLog(interval: .seconds(60))

    init(
        settings: Settings, ring: KeyRing, logger: Logger, fetch: @escaping Fetch = JWKSSource.httpFetch,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.settings = settings
        self.ring = ring
        self.logger = logger
        self.fetch = fetch
        self.now = now
    }

    /// The URL as logs and `/readyz` may show it: without a user or password.
    var displayURL: String { LogRedaction.url(settings.url) }

    /// For `/readyz`: nil once a fetch has given keys (a later failure keeps them), else why not.
    var notReadyReason: String? {
        state.withLockedValue { state in
            guard !state.hasKeys else { return nil }
            // "Summary: detail", as every readiness reason: only a full API key is shown the detail.
            return "no token keys yet from the JWKS URL" + (state.lastError.map { ": \($0)" } ?? "")
        }
    }

    /// Called by a verification whose token's `kid` names no key: asks for a fetch, which `run` makes
    /// once `minimumInterval` has passed since the last one. Never waits.
    func keyIDMissed() {
        state.withLockedValue { $0.missed = true }
    }

    /// Whether a fetch is due at `instant`: the first one, the periodic one, a retry after a failure, or
    /// one an unknown kid asked for.
    func isDue(at instant: ContinuousClock.Instant) -> Bool {
        state.withLockedValue { state in
            guard let last = state.lastAttempt else { return true }
            let elapsed = instant - last
            if elapsed >= settings.refresh { return true }
            return (state.lastFailed || state.missed) && elapsed >= settings.minimumInterval
        }
    }

    /// Fetches whenever one is due, from a tick after it starts (the node's start-up makes the first
    /// fetch, before its server listens) until cancelled or shut down.
    func run() async {
        await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: settings.tick)
                if !Task.isCancelled, isDue(at: now()) { await refresh() }
            }
        }
    }

    /// Fetches the JWKS now and, when it holds usable keys, puts them in the ring in place of the last
    /// ones. Returns whether it did.
    @discardableResult
    func refresh() async -> Bool {
        state.withLockedValue {
            $0.lastAttempt = now()
            $0.missed = false
        }
        do {
            let keys = try await fetchKeys()
            ring.replaceFetched(keys)
            let (wasFailing, first) = state.withLockedValue { state in
                defer {
                    state.lastFailed = false
                    state.hasKeys = true
                    state.lastError = nil
                }
                return (state.lastFailed, !state.hasKeys)
            }
            if first || wasFailing {
                logger.info("token keys fetched from the JWKS URL", metadata: ["url": "\(displayURL)", "keys": "\(keys.count)"])
            } else {
                logger.debug("token keys fetched from the JWKS URL", metadata: ["url": "\(displayURL)", "keys": "\(keys.count)"])
            }
            return true
        } catch {
            let hadKeys = state.withLockedValue { state in
                state.lastFailed = true
                state.lastError = error.description
                return state.hasKeys
            }
            failureLog.note(
                hadKeys ? "could not fetch the JWKS; the last keys fetched stay in use" : "could not fetch the JWKS; tokens signed with its keys are refused until it answers",
                logger: logger, metadata: ["url": "\(displayURL)", "error": "\(error.description)"])
            return false
        }
    }

    /// The JWKS's keys, or why there are none, within `settings.timeout` and `settings.maxSize`.
    private func fetchKeys() async throws(FetchError) -> [VerificationKey] {
        let body: [UInt8]
        do {
            body = try await withThrowingTaskGroup(of: [UInt8].self) { [fetch, settings] group in
                group.addTask { try await fetch(settings.url, settings.maxSize, settings.timeout) }
                group.addTask {
                    try await Task.sleep(for: settings.timeout)
                    throw FetchError("no answer within \(settings.timeout)")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch let error as FetchError {
            throw error
        } catch is NIOTooManyBytesError {
            throw FetchError("the answer is longer than \(settings.maxSize) bytes")
        } catch is CancellationError {
            throw FetchError("cancelled")
        } catch {
            throw FetchError("\(error)")
        }
        // Whatever `fetch` did, no more than this is parsed.
        guard body.count <= settings.maxSize else { throw FetchError("the answer is longer than \(settings.maxSize) bytes") }
        do {
            return try await Authenticator.loadJWKS(
                String(decoding: body, as: UTF8.self), setting: "auth.jwksUrl", origin: displayURL, strict: false
            ).keys
        } catch {
            throw FetchError(error.description)
        }
    }

    /// `fetch` over HTTP(S) with async-http-client's shared client: only a 200 answer counts.
    ///
    /// The answer's head must come within nine tenths of `timeout` (the body is bounded by the caller):
    /// async-http-client keeps trying to connect until then, and when it gives up first it says why
    /// (connection refused, say) where the caller could only say that time ran out.
    static let httpFetch: Fetch = { url, maxSize, timeout in
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: TimeAmount(timeout * 0.9))
            guard response.status == .ok else { throw FetchError("HTTP status \(response.status.code)") }
            return Array(buffer: try await response.body.collect(upTo: maxSize))
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            throw FetchError("no answer within \(timeout)")
        } catch let error as NIOConnectionError {
            throw FetchError("cannot connect to \(error.host):\(error.port)")
        } catch let error as IOError {
            throw FetchError(String(cString: strerror(error.errnoCode)))
        }
    }
}
