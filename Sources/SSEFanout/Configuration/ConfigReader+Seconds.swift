import Configuration

extension ConfigReader {
    /// The longest time any setting takes, in seconds (ten years): far past every sensible value, and
    /// far below where `Duration` would overflow and stop the node.
    static let maxSeconds: Double = 10 * 365 * 24 * 3600

    /// A duration setting given in seconds (fractions allowed), refused unless 0…`maxSeconds`.
    func seconds(forKey key: String, default fallback: Double) throws(ConfigurationError) -> Duration {
        try seconds(forKey: key) ?? .seconds(fallback)
    }

    /// The same, nil when the setting is absent.
    func seconds(forKey key: String) throws(ConfigurationError) -> Duration? {
        guard let value = double(forKey: ConfigKey(key)) else { return nil }
        guard value.isFinite, value >= 0, value <= Self.maxSeconds else {
            throw ConfigurationError("\(key) must be 0…\(Int(Self.maxSeconds)) seconds; got \(value)")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }
}
