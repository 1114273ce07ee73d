import ClientRuntime
import Logging
import NIOCore

/// Asks Redis Sentinels where the primary is, as the Sentinel client specification says: each sentinel
/// in turn, with a short timeout, `SENTINEL get-master-addr-by-name`; the one that answered is asked first
/// next time. Each question is a connection of its own, closed after the answer: sentinels are asked
/// when a connection is made and every few seconds, never on the command path. Used on one event loop.
final class SentinelQuery: @unchecked Sendable {  // Sendable to be captured by its connections' completions; used on its loop only.
    private let eventLoop: any EventLoop
    private let sentinels: [RedisEndpoint]
    private let masterName: String
    /// How each sentinel is reached: their password and timeouts.
    private let configuration: RedisConfiguration
    private let logger: Logger
    /// The sentinel to ask first: the one that answered last.
    private var first = 0

    init(eventLoop: any EventLoop, configuration: RedisConfiguration, logger: Logger) {
        self.eventLoop = eventLoop
        sentinels = configuration.sentinels
        masterName = configuration.masterName
        var sentinel = RedisConfiguration(host: "", port: 0, password: configuration.sentinelPassword)
        sentinel.connectTimeout = configuration.sentinelTimeout
        sentinel.commandTimeout = configuration.sentinelTimeout
        self.configuration = sentinel
        var logger = logger
        // What a sentinel answered goes into the query's failure, not into a log line of its own.
        logger.logLevel = .error
        self.logger = logger
    }

    /// The primary's address, from the first sentinel that knows it, on the loop. Fails with
    /// `.notConnected` saying what each sentinel answered.
    func primary(completion: @escaping @Sendable (Result<RedisEndpoint, RedisError>) -> Void) {
        eventLoop.preconditionInEventLoop()
        ask(sentinels.indices.map { (first + $0) % sentinels.count }[...], failures: [], completion: completion)
    }

    private func ask(_ remaining: ArraySlice<Int>, failures: [String], completion: @escaping @Sendable (Result<RedisEndpoint, RedisError>) -> Void) {
        guard let index = remaining.first else {
            return completion(.failure(.notConnected("no sentinel named the primary '\(masterName)': \(failures.joined(separator: "; "))")))
        }
        let sentinel = sentinels[index]
        var configuration = self.configuration
        configuration.host = sentinel.host
        configuration.port = sentinel.port
        let connection = RedisConnection(
            eventLoop: eventLoop, configuration: configuration,
            status: ConnectionStatus(initialReason: "") { RedisError.notConnected($0) }, logger: logger)
        let command = ["SENTINEL", "get-master-addr-by-name", masterName].map { Array($0.utf8) }
        connection.submit([command]) { [self] result in
            connection.shutdown(promise: eventLoop.makePromise())
            switch Self.address(in: result) {
            case .success(let primary):
                first = index
                completion(.success(primary))
            case .failure(let failure):
                ask(remaining.dropFirst(), failures: failures + ["\(sentinel): \(failure.reason)"], completion: completion)
            }
        }
    }

    private struct Unanswered: Error {
        var reason: String
    }

    private static func address(in result: Result<[RedisValue], RedisError>) -> Result<RedisEndpoint, Unanswered> {
        switch result {
        case .failure(let error):
            return .failure(Unanswered(reason: "\(error)"))
        case .success(let replies):
            switch replies.first {
            case .array(let parts)? where parts.count == 2:
                guard let host = parts[0].string, let port = parts[1].int else { break }
                return .success(RedisEndpoint(host: host, port: Int(port)))
            case .null?:
                return .failure(Unanswered(reason: "it monitors no primary of that name"))
            case .error(let message)?:
                return .failure(Unanswered(reason: message))
            default:
                break
            }
            return .failure(Unanswered(reason: "its answer is no address"))
        }
    }
}
