import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Hands a browser's send or upload on once: to the backend at `upstream.url` when one is configured
/// (`UpstreamForwarder`, the body streamed as it arrives), else to RabbitMQ's `sse.upstream`
/// (`UpstreamMessage`, the body read whole first). Before that it confirms the `X-SSE-Connection` the
/// caller named is theirs, and claims the `Idempotency-Key` (`SendClaims`) so a retry is not sent twice.
final class UpstreamSender: Sendable {
    struct Settings: Sendable {
        var url: String?
        var timeout: Duration
        var maxResponseSize: Int
        var maxHeldBytes: Int
        /// How long a request's body may take to arrive (`http.requestTimeout`): a forward lasts that long too.
        var requestTimeout: Duration
    }

    /// Bodies held by every send and upload on its way to RabbitMQ (a forwarded body is not held).
    let budget: BodyBudget
    /// One warning per interval for each refusal code (and one for dropped connection ids): refusals can
    /// come as fast as a client can send, and a flood of one kind must not hide another.
    private let logs = NIOLockedValueBox<[String: RateLimitedLog]>([:])
    private let registry: any Registry
    private let broker: any Broker
    private let claims: any SendClaims
    private let forwarder: UpstreamForwarder?
    /// How long a claim stays pending if its attempt never settles: longer than any attempt may take (a
    /// forward is claimed with its head, so its body's time counts).
    private let lapse: Duration
    private let logger: Logger

    init(settings: Settings, registry: any Registry, broker: any Broker, claims: any SendClaims, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.registry = registry
        self.broker = broker
        self.claims = claims
        self.budget = BodyBudget(limit: settings.maxHeldBytes)
        self.forwarder = settings.url.map {
            UpstreamForwarder(
                url: $0, timeout: settings.timeout, bodyTimeout: settings.requestTimeout, maxResponseSize: settings.maxResponseSize,
                eventLoopGroup: eventLoopGroup)
        }
        self.lapse = settings.requestTimeout + settings.timeout + .seconds(15)
        self.logger = logger
    }

    /// Whether sends go to an HTTP backend, their bodies streamed (else to RabbitMQ, held whole).
    var forwards: Bool { forwarder != nil }

    /// Forwards a send or upload whose head was checked to the backend, `body` streamed as it arrives.
    /// A body that fails (too large, not JSON, the browser gone) aborts the backend's request, so the
    /// send counts as not handed on and its claim is given back.
    func forward(_ request: SendRequest, body: SendBodyStream.Bytes) async -> SendAnswer {
        guard let forwarder else { return .refused(SendRefusal(.serviceUnavailable, "unavailable", "no backend is configured")) }
        return await once(request) { request, id in
            switch await forwarder.forward(request, id: id, body: body) {
            case .answered(let status, let contentType, let answer):
                // A 5xx says the backend did not take it: the retry must go through.
                return (.upstream(status, contentType: contentType, body: answer), status.code < 500)
            case .failed(let refusal):
                return (.refused(refusal), false)
            }
        }
    }

    /// Publishes a send or upload whose body was read whole to `sse.upstream`.
    func publish(_ request: SendRequest, body: ByteBuffer) async -> SendAnswer {
        let payload: UpstreamMessage.Payload
        do {
            payload = try prepare(request, body)
        } catch {
            return .refused(error)
        }
        return await once(request) { request, id in
            await self.publish(request, id: id, payload: payload)
        }
    }

    /// Confirms the caller's connection, claims the idempotency key, hands on (`delivered`: it reached
    /// the backend), and marks the claim done or gives it back accordingly.
    private func once(
        _ request: SendRequest, handOn: (SendRequest, String) async -> (SendAnswer, delivered: Bool)
    ) async -> SendAnswer {
        var request = request
        request.identity.connectionID = await confirmedConnection(request)
        let id = EventIDGenerator.next()
        let key = request.idempotencyKey.map { SendClaimKey(tenant: request.identity.tenant, user: request.identity.user, key: $0) }
        if let key {
            do {
                switch try await claims.claim(key, id: id, lapse: lapse) {
                case .claimed: break
                case .done(let sent): return .node(.ok, JSONBody.encode(["id": sent, "duplicate": true]))
                case .inFlight:
                    return .refused(SendRefusal(
                        .conflict, "in_flight", "a send with this Idempotency-Key is under way: retry once it is answered", retryAfter: 1))
                }
            } catch {
                logger.warning("could not claim a send's idempotency key", metadata: ["error": "\(error)"])
                return .refused(SendRefusal(.serviceUnavailable, "unavailable", "the idempotency key could not be checked (Redis unreachable)", retryAfter: 1))
            }
        }
        let (answer, delivered) = await handOn(request, id)
        if let key {
            if delivered {
                do { try await claims.complete(key, id: id) } catch {
                    logger.warning("could not mark a send done; a retry may reach the backend again", metadata: ["error": "\(error)"])
                }
            } else {
                await claims.release(key, id: id)
            }
        }
        return answer
    }

    /// Logs a refusal, rate-limited per code: its code and status only, never the token, key or body.
    func note(_ refusal: SendRefusal) {
        log(refusal.code).note("refused a send or upload", logger: logger, metadata: ["error": "\(refusal.code)", "status": "\(refusal.status.code)"])
    }

    private func log(_ kind: String) -> RateLimitedLog {
        logs.withLockedValue { logs in
            if let log = logs[kind] { return log }
            let log = RateLimitedLog()
            logs[kind] = log
            return log
        }
    }

    func shutdown() async {
        await forwarder?.shutdown()
    }

    /// A send's body must be JSON; an upload is parsed into fields and files.
    private func prepare(_ request: SendRequest, _ body: ByteBuffer) throws(SendRefusal) -> UpstreamMessage.Payload {
        switch request.kind {
        case .send:
            var json = JSONStreamValidator()
            guard json.feed(body.readableBytesView), json.isComplete else { throw SendRequest.notJSON }
            return .json(body)
        case .upload:
            return .form(try UploadForm(body: body, boundary: request.boundary ?? ""))
        }
    }

    /// The connection `X-SSE-Connection` names, if the registry says it is the sender's (same user,
    /// same tenant); otherwise nil, and the send goes on without one.
    private func confirmedConnection(_ request: SendRequest) async -> String? {
        guard let claimed = request.claimedConnectionID else { return nil }
        do {
            if let record = try await registry.connection(claimed), request.identity.owns(record) { return claimed }
            log("connection_not_senders").note("dropped an X-SSE-Connection that is not the sender's", logger: logger)
        } catch {
            logger.debug("could not look up a send's connection", metadata: ["error": "\(error)"])
        }
        return nil
    }

    /// Publishes to `sse.upstream`; `delivered` once RabbitMQ confirmed it routed.
    private func publish(_ request: SendRequest, id: String, payload: UpstreamMessage.Payload) async -> (SendAnswer, delivered: Bool) {
        let message = UpstreamMessage(
            id: id, kind: request.kind, path: request.path, query: request.query, identity: request.identity,
            idempotencyKey: request.idempotencyKey, receivedAt: Int64(Date().timeIntervalSince1970 * 1000), payload: payload)
        let send = broker.publishUpstream(message.encoded(), routingKey: request.path.routingKey, messageID: id, headers: message.headers)
        do {
            guard try await send.routed else {
                return (.refused(SendRefusal(
                    .serviceUnavailable, "not_routed", "no queue is bound to \(BrokerTopology.upstreamExchange) for '\(request.path.routingKey)'",
                    retryAfter: 5)), false)
            }
            return (.node(.accepted, JSONBody.encode(["id": id])), true)
        } catch {
            logger.warning("a send was not confirmed by RabbitMQ", metadata: ["error": "\(error)"])
            return (.refused(SendRefusal(.serviceUnavailable, "unavailable", "RabbitMQ did not take the send", retryAfter: 1)), false)
        }
    }
}
