/// Durations as people type them: `30s`, `15m`, `1h`, `2d`, or plain seconds.
public enum DurationText {
    /// Nil unless `text` is a positive whole number, optionally followed by one of s, m, h, d.
    public static func parse(_ text: String) -> Duration? {
        var digits = Substring(text)
        let unit: Int64
        switch text.last {
        case "s": unit = 1
        case "m": unit = 60
        case "h": unit = 3600
        case "d": unit = 86400
        default: unit = 0
        }
        if unit != 0 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = Int64(digits), value > 0
        else { return nil }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: max(unit, 1))
        guard !overflow else { return nil }
        return .seconds(seconds)
    }
}
