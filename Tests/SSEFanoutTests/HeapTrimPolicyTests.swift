import Testing

@testable import SSEFanout

@Suite struct HeapTrimPolicyTests {
    /// The policy's answers for free-byte readings (in MiB) taken one after the other.
    private func decisions(threshold: Int = 32, _ freeMiB: [Int]) -> [Bool] {
        var policy = HeapTrimPolicy(threshold: threshold * 1024 * 1024)
        return freeMiB.map { policy.shouldTrim(freeBytes: $0 * 1024 * 1024) }
    }

    @Test func trimsOnceEnoughFreedMemoryGathered() {
        #expect(decisions([2, 20, 100]) == [false, false, true])
    }

    /// Trimming leaves the freed bytes counted as free: the same amount must not trim again.
    @Test func doesNotTrimTheSameMemoryTwice() {
        #expect(decisions([100, 100, 120, 140]) == [true, false, false, true])
    }

    /// Freed memory taken again is resident again: freeing it once more is worth another trim.
    @Test func memoryReusedAndFreedAgainTrimsAgain() {
        #expect(decisions([100, 10, 90]) == [true, false, true])
    }

    @Test func zeroThresholdNeverTrims() {
        #expect(decisions(threshold: 0, [1 << 20]) == [false])
    }
}
