// Shared by every fuzz target (compiled into each by scripts/fuzz.sh).
import Dispatch
import NIOConcurrencyHelpers

@testable import SSEFanout

/// Runs `work` to its end on the concurrency pool and waits for it (libFuzzer calls in synchronously).
func run<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    let result = NIOLockedValueBox<T?>(nil)
    Task {
        let value = await work()
        result.withLockedValue { $0 = value }
        done.signal()
    }
    done.wait()
    return result.withLockedValue { $0! }
}

/// Stops the run when an invariant does not hold: libFuzzer keeps the input as a crash artifact.
func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError(message(), file: file, line: line) }
}

/// What nodes send each other (read back as trusted) is the same publication.
func requireRoundTrip(_ leg: Publication) {
    let again: Publication
    do {
        again = try PublicationCodec.decode(PublicationCodec.encode(leg), trusted: true)
    } catch {
        fatalError("re-encoded publication does not decode: \(error)")
    }
    require(again == leg, "publication changed through encode/decode")
}

/// The fuzzer's input as bytes.
func bytes(_ start: UnsafeRawPointer, _ count: Int) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: start, count: count))
}

/// The input as text, as NIO hands a request line or header to the node (invalid UTF-8 replaced).
func text(_ start: UnsafeRawPointer, _ count: Int) -> String {
    String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
}
