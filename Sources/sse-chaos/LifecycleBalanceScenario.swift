import Foundation
import Logging

/// A backend follows who is online from the lifecycle events alone while a node is killed with -9 and
/// users come and go: for every user, `user.online` and `user.offline` must alternate (in `seq`
/// order) and end offline once every client has left; every connection opened must be closed exactly
/// once, the killed node's as `node_died`, reported by the two surviving nodes' reapers (both reap).
///
/// Users with a client on the killed node close their other clients and stay away until it is reaped
/// ("stranded"): their offline can only come from the reaper. The killed node starts again once it
/// is reaped. Nodes run with a 2 s lease, so that reaping comes within seconds: events routed to the
/// dead node meanwhile come back rerouted, and the longer that takes, the more of them a client
/// would see twice (it drops repeats among its last 32 events, and behind its resume point).
struct LifecycleBalanceScenario: ChaosScenario {
    static let name = "lifecycle-balance"
    static let abstract = "kill -9 a node while users come and go, listening to sse.lifecycle: each user's online and offline alternate and balance, each connection closes once."

    private let log = LifecycleLog()

    /// How long, after the last client left, the closes and offlines may take to arrive.
    static let settleTimeout: Duration = .seconds(45)
    /// How long the killed node's connections may take to be reaped: its lease must run out, then stay
    /// out for another lease, and a reaper runs every third of one.
    static let reapTimeout: Duration = .seconds(30)

    var nodeArguments: [String] { ["--node-lease", "2"] }

    /// Every fourth user, starting with chaos-2, leaves for a while: more online/offline turns.
    static func comesAndGoes(user: Int) -> Bool { user % 4 == 2 }

    func prepare(_ cluster: ChaosCluster, logger: Logger) async throws {
        try await log.start(amqpURL: cluster.services.amqpURL, logger: logger)
    }

    func tearDown() async {
        await log.stop()
    }

    func injectFaults(_ context: ScenarioContext) async throws {
        let ports = context.cluster.nodePorts
        let victim = ports[ports.count / 2]
        let away = context.clients.filter { Self.comesAndGoes(user: $0.plan.user) }
        // Every client of the users with a client on the victim: once it dies, they leave their other
        // clients too, so the dead node holds their last connection.
        let strandedUsers = Set(context.clients.filter { $0.plan.firstPort == victim && !Self.comesAndGoes(user: $0.plan.user) }.map(\.plan.user))
        let stranded = context.clients.filter { strandedUsers.contains($0.plan.user) }
        try await context.at(0.15)
        context.timeline.record("offline: \(away.map(\.plan.name).joined(separator: ", "))")
        for client in away { client.goOffline() }
        try await context.at(0.25)
        context.timeline.record("kill -9 node \(victim) (pid \(context.cluster.pid(ofNode: victim).map(String.init) ?? "?")); stranded: \(stranded.map(\.plan.name).joined(separator: ", "))")
        try await context.cluster.kill(victim)
        for client in stranded { client.goOffline() }
        try await context.at(0.5)
        context.timeline.record("back online: \(away.map(\.plan.name).joined(separator: ", "))")
        for client in away { client.comeBack() }
        let reaped = try await BoundedPoll.until(timeout: Self.reapTimeout, every: .milliseconds(250)) {
            log.records.contains { $0.node == String(victim) && $0.reason == "node_died" }
        }
        // Every connection of the node goes in one reaping; a moment for the last of its events.
        try await Task.sleep(for: .seconds(1))
        let closes = log.records.filter { $0.node == String(victim) && $0.reason == "node_died" && $0.event == "connection.closed" }.count
        context.timeline.record(reaped ? "node \(victim) reaped: \(closes) connections closed as node_died" : "node \(victim) not reaped within \(Self.reapTimeout)")
        context.timeline.record("restarting node \(victim) on the same port; back online: \(stranded.map(\.plan.name).joined(separator: ", "))")
        let seconds = try await context.cluster.startNode(victim)
        for client in stranded { client.comeBack() }
        context.timeline.record("node \(victim) ready again after \(seconds) s")
        context.addCheck(ScenarioCheck(
            name: "lifecycle: the stranded users went offline as node_died",
            passed: !strandedUsers.isEmpty && strandedUsers.allSatisfy { user in
                log.records.contains { $0.event == "user.offline" && $0.reason == "node_died" && $0.user == NumberedEvent.userID(user) }
            },
            detail: "\(strandedUsers.count) stranded users"))
    }

    /// Runs once every client has disconnected: waits (bounded) for the last events, then checks.
    func finalChecks(_ context: ScenarioContext) async -> [ScenarioCheck] {
        let started = ContinuousClock.now
        let settled = (try? await BoundedPoll.until(timeout: Self.settleTimeout, every: .milliseconds(250)) {
            Self.isSettled(log.records)
        }) ?? false
        // A duplicate would show up within this.
        try? await Task.sleep(for: .seconds(2))
        context.timeline.record(
            settled ? "lifecycle events settled in \(ChaosCluster.secondsSince(started)) s" : "lifecycle events still unbalanced after \(Self.settleTimeout)")
        let victim = String(context.cluster.nodePorts[context.cluster.nodePorts.count / 2])
        return Self.checks(log.records, unreadable: log.unreadable, users: context.clients.map { NumberedEvent.userID($0.plan.user) }, victim: victim)
    }

    /// Every opened connection closed, and every user's last turn offline.
    static func isSettled(_ records: [LifecycleRecord]) -> Bool {
        let opened = Set(records.filter { $0.event == "connection.opened" }.compactMap(\.connectionId))
        let closed = Set(records.filter { $0.event == "connection.closed" }.compactMap(\.connectionId))
        guard !opened.isEmpty, opened.isSubset(of: closed) else { return false }
        return turns(records).values.allSatisfy { $0.last == "user.offline" }
    }

    /// Each user's online and offline events, in `seq` order.
    static func turns(_ records: [LifecycleRecord]) -> [String: [String]] {
        var turns: [String: [String]] = [:]
        for record in records.sorted(by: { $0.seq < $1.seq }) where record.event == "user.online" || record.event == "user.offline" {
            if let user = record.user { turns[user, default: []].append(record.event) }
        }
        return turns
    }

    static func checks(_ records: [LifecycleRecord], unreadable: Int, users: [String], victim: String) -> [ScenarioCheck] {
        let turns = turns(records)
        let expected = Set(users)
        let silent = expected.filter { turns[$0] == nil }.sorted()
        let broken = turns.filter { _, events in
            events.enumerated().contains { index, event in event != (index % 2 == 0 ? "user.online" : "user.offline") }
        }.keys.sorted()
        let stillOnline = turns.filter { $0.value.last != "user.offline" }.keys.sorted()
        let online = records.filter { $0.event == "user.online" }.count
        let offline = records.filter { $0.event == "user.offline" }.count

        var opened: [String: Int] = [:]
        var closed: [String: Int] = [:]
        for record in records {
            guard let id = record.connectionId else { continue }
            if record.event == "connection.opened" { opened[id, default: 0] += 1 }
            if record.event == "connection.closed" { closed[id, default: 0] += 1 }
        }
        let openedTwice = opened.filter { $0.value > 1 }.count
        let unclosed = opened.keys.filter { closed[$0] == nil }.count
        let closedTwice = closed.filter { $0.value > 1 }.count
        let closedUnopened = closed.keys.filter { opened[$0] == nil }.count
        let died = records.filter { $0.event == "connection.closed" && $0.reason == "node_died" }
        let diedElsewhere = died.filter { $0.node != victim }.count
        // Arrival order may differ from `seq` order (nodes publish independently): informational.
        let inversions = zip(records, records.dropFirst()).filter { $0.seq > $1.seq }.count

        func list(_ names: [String]) -> String { names.prefix(10).joined(separator: ", ") + (names.count > 10 ? " …" : "") }
        return [
            ScenarioCheck(
                name: "lifecycle: every user went online",
                passed: silent.isEmpty && unreadable == 0,
                detail: silent.isEmpty ? "\(turns.count) users, \(records.count) events (\(unreadable) unreadable)" : "never online: \(list(silent))"),
            ScenarioCheck(
                name: "lifecycle: online and offline alternate per user",
                passed: broken.isEmpty,
                detail: broken.isEmpty
                    ? "\(online) online, \(offline) offline; \(inversions) arrivals out of seq order"
                    : list(broken.map { "\($0): \(turns[$0]!.map { $0 == "user.online" ? "on" : "off" }.joined(separator: " "))" })),
            ScenarioCheck(
                name: "lifecycle: every user ends offline after all clients left",
                passed: stillOnline.isEmpty && online == offline,
                detail: stillOnline.isEmpty ? "\(online) online = \(offline) offline" : "still online: \(list(stillOnline))"),
            ScenarioCheck(
                name: "lifecycle: every connection opened and closed exactly once",
                passed: openedTwice == 0 && unclosed == 0 && closedTwice == 0 && closedUnopened == 0,
                detail: "\(opened.count) opened, \(closed.count) closed; opened twice \(openedTwice), never closed \(unclosed), closed twice \(closedTwice), closed unopened \(closedUnopened)"),
            ScenarioCheck(
                name: "lifecycle: the killed node's connections closed as node_died",
                passed: !died.isEmpty && diedElsewhere == 0,
                detail: "\(died.count) node_died closes, \(diedElsewhere) of them not of node \(victim)"),
        ]
    }
}
