import ArgumentParser

/// What a unicast publish addresses: the subscriber's user, or its connection id (from `connected`).
enum UnicastTargetKind: String, ExpressibleByArgument, CaseIterable, Codable {
    case user
    case connection
}
