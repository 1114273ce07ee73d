/// Who a client is and where it first connects.
struct ClientPlan: Sendable {
    /// `chaos-<k>/<n>`: user k's n-th client (a browser tab).
    var name: String
    var user: Int
    /// Sent as `clientId`, the tab's id.
    var clientID: String
    var firstPort: Int
    /// The first stream is a raw socket the scenario can stall (see `StallingConnection`).
    var usesStallingSocket = false

    /// The usual population: every user one client, every second user (even k) a second one; clients
    /// are spread over the nodes in turn, so a user's two tabs usually sit on different nodes.
    static func roster(users: Int, ports: [Int]) -> [ClientPlan] {
        var plans: [ClientPlan] = []
        for user in 0..<users {
            for tab in 1...(user % 2 == 0 ? 2 : 1) {
                plans.append(
                    ClientPlan(
                        name: "\(NumberedEvent.userID(user))/\(tab)", user: user, clientID: "tab-\(tab)",
                        firstPort: ports[plans.count % ports.count]
                    )
                )
            }
        }
        return plans
    }
}
