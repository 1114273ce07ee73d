import ArgumentParser

/// Checks of the settings every publishing scenario shares (their defaults differ, so they are not one option group).
enum PublishLoad {
    static func validate(rate: Double, duration: Double, size: Int, drain: Double) throws {
        guard rate > 0, duration > 0 else { throw ValidationError("--rate and --duration must be positive") }
        guard size >= 48 else { throw ValidationError("--size must be at least 48 bytes (sequence number and timestamp)") }
        guard drain > 0 else { throw ValidationError("--drain must be positive") }
    }
}
