import ClientRuntime
import Logging

/// The life of a RabbitMQ client's thread, the same for the publisher and the consumer: connect,
/// serve until the connection fails, wait a backoff, connect again; until the thread's queue is
/// closed. The status follows: disconnected with the reason on every failure, connected (with the
/// backoff starting over) on every success.
struct ReconnectLoop<Work: Sendable> {
    /// "publisher" or "consumer", for log lines.
    let role: String
    let queue: SignalingQueue<Work>
    let status: ConnectionStatus
    let logger: Logger
    private var backoff = ReconnectBackoff()

    init(role: String, queue: SignalingQueue<Work>, status: ConnectionStatus, logger: Logger) {
        self.role = role
        self.queue = queue
        self.status = status
        self.logger = logger
    }

    /// `connect` opens a session; `serve` uses it until the queue is closed (returns, the session
    /// finished) or the connection fails (throws); `close` closes a failed session politely, in case
    /// the broker is still there. `lost` is logged when a session fails, `stopped` is the status's
    /// reason at the end, and `arrivedWhileWaiting` gets what is handed over during a backoff.
    mutating func run<Session>(
        connect: () throws -> Session,
        serve: (Session) throws -> Void,
        close: (Session) -> Void,
        lost: Logger.Message,
        stopped: String,
        arrivedWhileWaiting: ([Work]) -> Void
    ) {
        while !queue.isClosed {
            let session: Session
            do {
                session = try connect()
            } catch {
                let delay = backoff.nextDelay()
                status.markDisconnected(reason: "\(error)")
                logger.warning("RabbitMQ \(role) could not connect; retrying", metadata: [
                    "error": "\(error)", "retryIn": "\(delay)",
                ])
                queue.sleep(until: .now + delay, handlingArrivals: arrivedWhileWaiting)
                continue
            }
            backoff.reset()
            status.markConnected()
            do {
                try serve(session)
            } catch {
                status.markDisconnected(reason: "\(error)")
                logger.error(lost, metadata: ["error": "\(error)"])
                close(session)
                queue.sleep(until: .now + backoff.nextDelay(), handlingArrivals: arrivedWhileWaiting)
            }
        }
        status.markDisconnected(reason: stopped)
    }
}
