import ArgumentParser

/// How much of the machine the load tool may use before a result counts as invalid (`ClientHeadroom`).
struct ClientLimits: ParsableArguments {
    static let defaultCoreShare = 0.6
    static let defaultStartLag = 0.02

    @Option(name: .customLong("max-client-share"), help: "A result is invalid if this tool used more than this share of one core while deliveries ran (or its reading thread did).")
    var coreShare: Double = ClientLimits.defaultCoreShare

    @Option(name: .customLong("max-start-lag"), help: "A result is invalid if a publish started more than this many seconds after it was due.")
    var startLag: Double = ClientLimits.defaultStartLag

    func validate() throws {
        guard coreShare > 0 else { throw ValidationError("--max-client-share must be positive") }
        guard startLag > 0 else { throw ValidationError("--max-start-lag must be positive") }
    }
}
