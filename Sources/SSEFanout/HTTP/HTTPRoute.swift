/// A plain route: given a whole request on its connection's loop, it answers through the responder,
/// at once or later from any thread. Each gets what it needs when it is made (`Node.routes`), and
/// lives in its feature's folder.
protocol HTTPRoute: Sendable {
    func handle(_ request: HTTPRequest, _ responder: HTTPResponder)
}
