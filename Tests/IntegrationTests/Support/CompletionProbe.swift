import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Calls a method that takes a completion the way a node does, from an event loop, and tells whether
/// the completion ran inside that call: on the loop, before the call returned. That is all the seams
/// promise about where a completion runs (a caller holding a lock, or on an event loop, must not
/// deadlock or be re-entered); which thread it runs on otherwise is not checked.
enum CompletionProbe {
    static func call<Value: Sendable>(
        _ call: @escaping @Sendable (_ completion: @escaping @Sendable (Value) -> Void) -> Void
    ) async -> (value: Value, ranInsideTheCall: Bool) {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let returned = NIOLockedValueBox(false)
        return await withCheckedContinuation { continuation in
            loop.execute {
                call { value in
                    let inside = loop.inEventLoop && !returned.withLockedValue { $0 }
                    continuation.resume(returning: (value, inside))
                }
                returned.withLockedValue { $0 = true }
            }
        }
    }
}
