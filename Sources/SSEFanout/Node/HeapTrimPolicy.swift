/// When freed heap is worth giving back: once the allocator holds `threshold` bytes more free memory
/// than it did at the last trim (or at the lowest point since, when freed memory was taken again).
///
/// glibc keeps what a program frees in its arenas for reuse; after a large close-out (thousands of
/// streams, a slow client's buffered events) that memory stays resident for good. Trimming costs a
/// walk of the heap under the arena locks, so it runs only when there is a lot to give back.
struct HeapTrimPolicy: Sendable {
    let threshold: Int
    /// Free bytes right after the last trim, lowered whenever the free bytes fall below it (the
    /// program reused them, so they are resident again and count as "new" once freed).
    private var baseline: Int?

    init(threshold: Int) {
        self.threshold = threshold
    }

    /// Whether to trim now, given the allocator's free bytes; a `true` takes these bytes as the new
    /// baseline (trimming returns pages but the allocator still counts them as free).
    mutating func shouldTrim(freeBytes: Int) -> Bool {
        guard threshold > 0 else { return false }
        let baseline = min(self.baseline ?? 0, freeBytes)
        if freeBytes - baseline >= threshold {
            self.baseline = freeBytes
            return true
        }
        self.baseline = baseline
        return false
    }
}
