import ServiceLifecycle

/// A part of the node with nothing to run, only a step to take at its turn in the drain (the hub's last
/// closes, the broker's shutdown): it waits for the graceful shutdown, then takes the step. Cancelled
/// instead, it returns without it.
struct DrainStep: Service, CustomStringConvertible {
    /// The part, as the service group's logs name it.
    let description: String
    private let step: @Sendable () async -> Void

    init(_ description: String, _ step: @escaping @Sendable () async -> Void) {
        self.description = description
        self.step = step
    }

    func run() async {
        try? await gracefulShutdown()
        guard !Task.isCancelled else { return }
        await step()
    }
}
