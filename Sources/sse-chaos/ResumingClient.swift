import SSEClient
import NIOConcurrencyHelpers

/// A client that behaves like a browser's EventSource: when its stream ends or fails it waits the
/// server's `retry:` hint (or a default), reconnects — to the next live node, as a load balancer would
/// send it — with `Last-Event-ID: <last id seen>`, and keeps reading. Runs until its task is cancelled.
///
/// Scenarios can also send it offline (it closes its stream and stays away until `comeBack()`) or,
/// when its plan says so, open its first stream on a `StallingConnection` that `stopReading()` stalls
/// until `resumeReading()`.
final class ResumingClient: Sendable {
    let plan: ClientPlan
    let log: ClientLog
    private let cluster: ChaosCluster
    private let defaultRetry: Duration
    private let control = NIOLockedValueBox(Control())

    private struct Control {
        var offline = false
        var stalledConnection: StallingConnection?
        var stopRequested = false
        /// When `resumeReading()` was called.
        var resumedAt: ContinuousClock.Instant?
    }

    /// How long a read waits before the loop looks at its controls again (going offline).
    private static let controlInterval: Duration = .milliseconds(200)

    init(plan: ClientPlan, run: String, cluster: ChaosCluster, defaultRetry: Duration) {
        self.plan = plan
        self.log = ClientLog(plan: plan, run: run)
        self.cluster = cluster
        self.defaultRetry = defaultRetry
    }

    private var target: String {
        "/events?user=\(NumberedEvent.userID(plan.user))&clientId=\(plan.clientID)"
    }

    // MARK: Controls for scenarios

    /// Closes the stream and stays disconnected until `comeBack()`.
    func goOffline() {
        control.withLockedValue { $0.offline = true }
    }

    /// Reconnects at once (a user opening the app again, not a retry), with the last id it saw.
    func comeBack() {
        control.withLockedValue { $0.offline = false }
    }

    /// Stops reading the first stream of a client whose plan uses a `StallingConnection`.
    func stopReading() {
        let connection = control.withLockedValue { state -> StallingConnection? in
            state.stopRequested = true
            return state.stalledConnection
        }
        connection?.stopReading()
    }

    /// Ends the stall begun by `stopReading()`.
    func resumeReading() {
        let connection = control.withLockedValue { state -> StallingConnection? in
            state.resumedAt = state.resumedAt ?? .now
            return state.stalledConnection
        }
        connection?.resumeReading()
    }

    private var isOffline: Bool { control.withLockedValue { $0.offline } }

    // MARK: The loop

    func run() async {
        // Where the next stream opens: the planned node first, then the live node after the last one.
        var node: Int? = plan.firstPort
        if plan.usesStallingSocket {
            await runStalled(on: plan.firstPort)
            await pauseBeforeReconnect()
            node = cluster.nextLivePort(after: plan.firstPort)
        }
        while !Task.isCancelled {
            if isOffline {
                await waitUntilOnline()
                continue
            }
            guard let port = node ?? cluster.nextLivePort(after: nil) else {
                await pauseBeforeReconnect()
                continue
            }
            await readOneStream(from: port)
            if Task.isCancelled { break }
            if !isOffline { await pauseBeforeReconnect() }
            node = cluster.nextLivePort(after: port)
        }
    }

    private func readOneStream(from port: Int) async {
        var headers: [(String, String)] = []
        if let lastEventID = log.lastEventID { headers.append(("Last-Event-ID", lastEventID)) }
        let stream: SSEStream
        do {
            stream = try await SSEStream.connect("http://127.0.0.1:\(port)\(target)", headers: headers, timeout: .seconds(5))
        } catch is CancellationError {
            return
        } catch {
            log.recordStreamEnd("connect to \(port): \(error)")
            return
        }
        let reason = await consume(stream, from: port)
        await stream.close()
        // A `retry:` sent without data (as a draining node does) is no event, but EventSource obeys it.
        if let hint = stream.reconnectionTime { log.recordRetryHint(hint) }
        if let reason { log.recordStreamEnd(reason) }
    }

    /// Reads until the stream ends; returns why, or nil when the task was cancelled.
    private func consume(_ stream: SSEStream, from port: Int) async -> String? {
        while true {
            if isOffline { return "went offline" }
            do {
                guard let event = try await stream.next(timeout: Self.controlInterval) else {
                    return "node \(port) ended the stream"
                }
                log.record(event, fromNode: port)
            } catch SSEClientError.timeout {
                continue
            } catch is CancellationError {
                return nil
            } catch {
                return "node \(port): \(error)"
            }
        }
    }

    private func runStalled(on port: Int) async {
        let connection: StallingConnection
        do {
            connection = try await StallingConnection.open(port: port, target: target, lastEventID: log.lastEventID)
        } catch {
            log.recordStreamEnd("stalling connect to \(port): \(error)")
            return
        }
        let (stopped, resumed) = control.withLockedValue { state in
            state.stalledConnection = connection
            return (state.stopRequested, state.resumedAt != nil)
        }
        if stopped && !resumed { connection.stopReading() }

        var outcome = StallOutcome()
        var endReason = "node \(port) ended the stalled stream"
        do {
            for try await event in connection.events {
                log.record(event, fromNode: port)
                if control.withLockedValue({ $0.resumedAt != nil }) { outcome.eventsDrained += 1 }
            }
        } catch {
            endReason = "node \(port) (stalled stream): \(error)"
        }
        if Task.isCancelled {
            await connection.close()
            log.recordStall(outcome)
            return
        }
        // The stream ended on its own, and the client never closes it itself: the server did.
        outcome.disconnectedByServer = true
        if let resumedAt = control.withLockedValue({ $0.resumedAt }) {
            outcome.secondsToEnd = ChaosCluster.secondsSince(resumedAt)
        }
        log.recordStall(outcome)
        log.recordStreamEnd(endReason)
        await connection.close()
    }

    /// Waits the server's `retry:` hint (or the default), as EventSource does before reconnecting.
    private func pauseBeforeReconnect() async {
        let delay = log.retryMillis.map { Duration.milliseconds($0) } ?? defaultRetry
        try? await Task.sleep(for: delay)
    }

    private func waitUntilOnline() async {
        _ = try? await BoundedPoll.until(timeout: .seconds(3600), every: .milliseconds(50)) { !isOffline }
    }
}
