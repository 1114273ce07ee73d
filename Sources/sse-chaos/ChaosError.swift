/// Why a scenario could not be run at all (as opposed to running and finding losses).
enum ChaosError: Error, CustomStringConvertible {
    case repositoryNotFound(String)
    case binaryMissing(String)
    case portInUse(Int, String)
    case commandFailed(String, status: Int32, log: String)
    case nodeExited(port: Int, logTail: String)
    case notReady(String)
    case clientsNotConnected(Int, of: Int)

    var description: String {
        switch self {
        case .repositoryNotFound(let from):
            return "no sse-fanout repository (with scripts/services.sh) found from \(from); pass --repository"
        case .binaryMissing(let path):
            return "no sse-fanout binary at \(path); build it (swift build --product sse-fanout) or pass --binary"
        case .portInUse(let port, let hint):
            return "port \(port) is already in use; \(hint)"
        case .commandFailed(let command, let status, let log):
            return "`\(command)` exited with status \(status); see \(log)"
        case .nodeExited(let port, let logTail):
            return "node \(port) exited; last lines of its log:\n\(logTail)"
        case .notReady(let what):
            return "not ready in time: \(what)"
        case .clientsNotConnected(let connected, let total):
            return "only \(connected) of \(total) clients received their first `connected` event in time"
        }
    }
}
