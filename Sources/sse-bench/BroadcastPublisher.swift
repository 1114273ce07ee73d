import NIOCore
import NIOPosix
import SSEClient

/// Publishes broadcasts open-loop: publish `i` starts at `start + i / rate` whether or not earlier ones
/// were answered, each on its own HTTP connection, on an event loop of its own (not the subscribers').
struct BroadcastPublisher {
    let url: String
    let format: PublishFormat
    /// Publishes per second.
    let rate: Double
    let count: Int
    /// Payload size in bytes.
    let size: Int

    func run() async -> PublishOutcome {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = HTTPClient(eventLoopGroup: group)
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = PublishOutcome()
        await withTaskGroup(of: Result<Int, any Error>.self) { tasks in
            for sequence in 0..<count {
                let scheduled = start + .seconds(Double(sequence) / rate)
                try? await clock.sleep(until: scheduled)
                outcome.maximumStartLag = max(outcome.maximumStartLag, seconds(clock.now - scheduled))
                outcome.attempted += 1
                let payload = BenchPayload.make(sequence: sequence, sentAt: NIODeadline.now().uptimeNanoseconds, size: size)
                let (headers, body) = format.request(payload: payload)
                tasks.addTask { [url] in
                    do {
                        return .success(try await client.request("POST", url, headers: headers, body: body).status)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            for await result in tasks {
                switch result {
                case .success(let status) where (200..<300).contains(status):
                    outcome.accepted += 1
                case .success(let status):
                    outcome.failed += 1
                    if outcome.firstError == nil { outcome.firstError = "status \(status)" }
                case .failure(let error):
                    outcome.failed += 1
                    if outcome.firstError == nil { outcome.firstError = "\(error)" }
                }
            }
        }
        outcome.seconds = seconds(clock.now - start)
        try? await group.shutdownGracefully()
        return outcome
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
