import Foundation
import Logging

/// Runs one scenario end to end: fresh servers and nodes, clients connected, numbered events published
/// while the scenario's faults happen, a bounded wait for clients to catch up, then the checker.
/// Always stops what it started, also when something fails on the way.
struct ScenarioRunner {
    let settings: RunSettings
    let logger: Logger

    /// How long every client gets to open its first stream.
    static let connectTimeout: Duration = .seconds(30)
    /// A client counts as settled once nothing arrived for this long (late duplicates still count).
    static let quietPeriod: Duration = .seconds(1)

    func run(_ scenario: any ChaosScenario) async -> ScenarioReport {
        let name = type(of: scenario).name
        let run = "\(name)-\(String(format: "%06x", Int.random(in: 0..<0x100_0000)))"
        let runDirectory = "\(settings.runRoot)/\(Self.timestamp())-\(name)"
        var report = ScenarioReport(
            scenario: name, run: run, runDirectory: runDirectory, durationSeconds: ScenarioClock.seconds(settings.duration),
            rate: settings.rate, nodes: settings.nodePorts, users: settings.users
        )
        do {
            try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        } catch {
            report.error = "cannot create \(runDirectory): \(error)"
            return report
        }
        let services = ServiceController(
            script: settings.servicesScript, directory: settings.servicesDirectory, redisPort: settings.redisPort,
            amqpPort: settings.amqpPort, rabbitName: "ssechaos", logPath: runDirectory + "/services.log", logger: logger
        )
        let cluster = ChaosCluster(
            nodePorts: settings.nodePorts, binary: settings.binary, nodeArguments: scenario.nodeArguments, services: services,
            runDirectory: runDirectory, logger: logger
        )
        InterruptHandler.watch(cluster)
        do {
            try await cluster.start()
            try await scenario.prepare(cluster, logger: logger)
            try await exercise(scenario, cluster: cluster, run: run, report: &report)
        } catch {
            report.error = report.error ?? "\(error)"
        }
        await scenario.tearDown()
        logger.info("stopping nodes and servers")
        await cluster.shutdown()
        InterruptHandler.watch(nil)
        return report
    }

    private func exercise(_ scenario: any ChaosScenario, cluster: ChaosCluster, run: String, report: inout ScenarioReport) async throws {
        let clients = scenario.clientPlans(settings).map {
            ResumingClient(plan: $0, run: run, cluster: cluster, defaultRetry: settings.defaultRetry)
        }
        let ledger = PublishLedger()
        let observed = try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { await client.run() }
            }
            // Every client is connected before the first event, so every event is owed to every client.
            let connected = try await BoundedPoll.until(timeout: Self.connectTimeout) {
                clients.allSatisfy { $0.log.connections > 0 }
            }
            guard connected else {
                throw ChaosError.clientsNotConnected(clients.filter { $0.log.connections > 0 }.count, of: clients.count)
            }
            logger.info("\(clients.count) clients connected; publishing for \(settings.duration) at \(settings.rate) events/s")

            let clock = ScenarioClock()
            let timeline = FaultTimeline(clock: clock, logger: logger)
            let context = ScenarioContext(settings: settings, cluster: cluster, clients: clients, clock: clock, timeline: timeline, logger: logger)
            let publisher = NumberedPublisher(
                run: run, users: settings.users, rate: settings.rate, cluster: cluster, ledger: ledger,
                traffic: scenario.traffic(settings), giveUpAfter: settings.publishGiveUp
            )
            var faultError: (any Error)?
            async let faults: Void = scenario.injectFaults(context)
            await publisher.run(for: settings.duration, clock: clock)
            timeline.record("publisher done: every event accepted or given up")
            do {
                try await faults
            } catch {
                faultError = error
                timeline.record("fault failed: \(error)")
            }

            let settleStart = ContinuousClock.now
            let settled = try await BoundedPoll.until(timeout: settings.settleTimeout) {
                clients.allSatisfy { isSettled($0, owed: ledger.acceptedSeqs(ofUser: $0.plan.user)) }
            }
            if settled {
                timeline.record("every client has every accepted event (settled in \(ChaosCluster.secondsSince(settleStart)) s)")
            } else {
                let behind = clients.filter { !$0.log.hasAll(ledger.acceptedSeqs(ofUser: $0.plan.user)) }.count
                timeline.record("stopped waiting after \(settings.settleTimeout): \(behind) clients still miss events")
            }
            group.cancelAll()
            try await group.waitForAll()
            let checks = [nodesStayedUp(cluster)] + context.addedChecks + (await scenario.finalChecks(context))
            return (timeline: timeline.all, checks: checks, faultError: faultError)
        }

        report.timeline = observed.timeline
        report.publisher = ledger.summary
        report.clients = clients.map {
            DeliveryChecker.verdict(for: $0.log.snapshot, plan: $0.plan, published: ledger.acceptedSeqs(ofUser: $0.plan.user))
        }
        report.checks = commonChecks(report) + observed.checks
        if let faultError = observed.faultError { report.error = "fault could not be carried out: \(faultError)" }
    }

    private func isSettled(_ client: ResumingClient, owed: Set<Int>) -> Bool {
        guard client.log.hasAll(owed) else { return false }
        guard let last = client.log.lastEventAt else { return true }
        return ContinuousClock.now - last >= Self.quietPeriod
    }

    private func nodesStayedUp(_ cluster: ChaosCluster) -> ScenarioCheck {
        let died = cluster.nodesThatDied()
        return ScenarioCheck(
            name: "no node exited on its own",
            passed: died.isEmpty,
            detail: died.isEmpty
                ? "none" : died.map { "node \($0.port) (status \($0.status); see \(cluster.logPath(ofNode: $0.port)))" }.joined(separator: ", ")
        )
    }

    /// Checks that make the delivery counts meaningful, for every scenario.
    private func commonChecks(_ report: ScenarioReport) -> [ScenarioCheck] {
        let publisher = report.publisher
        let silent = report.clients.filter { $0.received == 0 }.map(\.client)
        let foreign = report.clients.reduce(0) { $0 + $1.foreign }
        return [
            ScenarioCheck(
                name: "publisher got every event accepted",
                passed: publisher.abandoned == 0 && publisher.accepted > 0,
                detail: "\(publisher.accepted) accepted, \(publisher.abandoned) given up after \(settings.publishGiveUp) of retries"
            ),
            ScenarioCheck(
                name: "every client received events",
                passed: silent.isEmpty,
                detail: silent.isEmpty ? "all \(report.clients.count)" : "none for \(silent.joined(separator: ", "))"
            ),
            ScenarioCheck(
                name: "no foreign events",
                passed: foreign == 0,
                detail: foreign == 0 ? "none" : "\(foreign) numbered events of another run or user, or with unreadable data"
            ),
        ]
    }

    private static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: Date())
    }
}
