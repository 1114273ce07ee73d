/// How one publish ended: accepted (HTTP 2xx, or the broker's confirm), or why not.
enum PublishAnswer: Sendable {
    case accepted
    case failed(String)
}
