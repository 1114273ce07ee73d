import NIOHTTP1

/// Which route answers a method and a path: made once per node (`Node.routes`), read by every
/// connection's `HTTPHandler`. `GET /events` and browsers' sends are not plain routes (the stream
/// takes the connection over, a send's body is read as it arrives): the handler knows them by path.
struct RouteTable: Sendable {
    /// What a path is matched by.
    enum Path: Sendable {
        case exact(String)
        /// Paths a feature recognises itself (`PresenceRoutes.handles`).
        case matching(@Sendable (String) -> Bool)

        func matches(_ path: String) -> Bool {
            switch self {
            case .exact(let exact): path == exact
            case .matching(let matches): matches(path)
            }
        }
    }

    struct Entry: Sendable {
        let methods: [HTTPMethod]
        let path: Path
        let route: any HTTPRoute
        /// Whether another method on the path is 405 (else 404: the path is not one of ours for it).
        let refusesOtherMethods: Bool
    }

    enum Match {
        case route(any HTTPRoute)
        /// The path has routes, none for this method.
        case methodNotAllowed
        case notFound
    }

    private var entries: [Entry] = []
    /// Paths answered outside the table (`/events`, sends), for `methodNotAllowed`.
    private var elsewhere: [Path] = []

    mutating func add(_ methods: [HTTPMethod], _ path: Path, _ route: any HTTPRoute, refusesOtherMethods: Bool = true) {
        entries.append(Entry(methods: methods, path: path, route: route, refusesOtherMethods: refusesOtherMethods))
    }

    /// Paths another part of the handler answers: a method the table has no route for is 405 there too.
    mutating func handledElsewhere(_ path: Path) {
        elsewhere.append(path)
    }

    /// The first entry for the path and method, in the order they were added.
    func match(_ method: HTTPMethod, _ path: String) -> Match {
        var pathKnown = false
        for entry in entries where entry.path.matches(path) {
            if entry.methods.contains(method) { return .route(entry.route) }
            pathKnown = pathKnown || entry.refusesOtherMethods
        }
        if pathKnown || elsewhere.contains(where: { $0.matches(path) }) {
            return .methodNotAllowed
        }
        return .notFound
    }
}
