import Foundation

/// Prints one line a second to standard error while a scenario runs (`[  12s] opened 1000/1000 …`), so a
/// long run shows where it is; standard output stays for the result.
final class ProgressReporter: Sendable {
    private let task: Task<Void, Never>?

    /// `line` says where the scenario is; nothing is printed when `enabled` is false.
    init(enabled: Bool, line: @escaping @Sendable () async -> String) {
        guard enabled else {
            task = nil
            return
        }
        task = Task {
            let start = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { break }
                let elapsed = (ContinuousClock.now - start).components.seconds
                let text = String(format: "[%4llds] ", elapsed) + (await line()) + "\n"
                FileHandle.standardError.write(Data(text.utf8))
            }
        }
    }

    func stop() {
        task?.cancel()
    }
}

extension ProgressReporter {
    /// The progress of a publish-and-deliver scenario: streams opened, publishes, deliveries.
    static func deliveries(enabled: Bool, counters: LiveCounters, connections: Int, source: any DeliverySource) -> ProgressReporter {
        ProgressReporter(enabled: enabled) {
            let now = counters.values
            return "opened \(now.opened)/\(connections) (\(now.openFailed) failed)  published \(now.published) "
                + "(accepted \(now.accepted), failed \(now.publishFailed), skipped \(now.skipped))  delivered \(await source.deliveryCount())"
        }
    }
}
