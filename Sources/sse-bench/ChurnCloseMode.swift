import ArgumentParser

/// How the load tool ends each churn connection once it saw `connected`.
enum ChurnCloseMode: String, ExpressibleByArgument, CaseIterable, Codable {
    /// A normal close (FIN), as a browser leaving a page: this side keeps the socket in TIME_WAIT.
    case fin
    /// An abortive close (RST, SO_LINGER 0): no TIME_WAIT, so ephemeral ports never run out.
    case reset
}
