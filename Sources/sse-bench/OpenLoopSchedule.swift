import NIOCore

/// When the items of an open-loop load are due: item `i` at `start + i / rate`, whatever happened to
/// earlier ones. The schedule is absolute, so a late wake-up never shifts later items.
struct OpenLoopSchedule {
    /// Shortest sleep: at high rates the items due within it go out together, rather than one timer
    /// wake-up (and its system time) per item.
    private static let quantum: Int64 = 1_000_000

    let start: NIODeadline
    let count: Int
    private let interval: Double
    private var next = 0
    /// The latest an item was handed out after its due time, in seconds.
    private(set) var maximumLag = 0.0

    init(rate: Double, count: Int, start: NIODeadline = .now()) {
        self.start = start
        self.count = count
        self.interval = 1e9 / rate
    }

    /// Waits until the next item is due and returns every item due by then; empty once all were handed out.
    mutating func due() async -> Range<Int> {
        guard next < count else { return next..<next }
        var now = NIODeadline.now()
        let first = dueTime(next)
        if first > now {
            let wait = max((first - now).nanoseconds, Self.quantum)
            try? await Task.sleep(nanoseconds: UInt64(wait))
            now = NIODeadline.now()
        }
        maximumLag = max(maximumLag, Double((now - first).nanoseconds) / 1e9)
        let from = next
        while next < count, dueTime(next) <= now {
            next += 1
        }
        return from..<next
    }

    private func dueTime(_ index: Int) -> NIODeadline {
        start + .nanoseconds(Int64(Double(index) * interval))
    }
}
