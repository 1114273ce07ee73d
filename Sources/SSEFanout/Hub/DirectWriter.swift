#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Writes a stream's bytes: straight to its socket with one `send(2)` while the channel holds nothing
/// unsent, through the channel otherwise. A broadcast's cost per stream is then about that one system
/// call; the channel pipeline, its promise bookkeeping and its pending-writes queue are skipped.
///
/// Order is kept because a direct write is made only when every write handed to the channel before it
/// has completed: whatever the kernel does not take at once (a slow client, a full socket buffer) goes to
/// the channel, and until the channel has written it all, so does everything after it. The channel then
/// buffers, reports writability and enforces the high water mark exactly as it always did.
///
/// Only on the stream's event loop. The descriptor is used only while the channel is open: NIO closes
/// it on this loop and tells the stream (`channelInactive`) before anything else runs here, and the
/// stream stops writing from then on.
struct DirectWriter {
    /// The socket: looked up the first time a write could go to it (a stream that never gets an event
    /// after `connected` never pays for the lookup); -1 when it could not be found, and the channel
    /// writes everything.
    private var descriptor: CInt = Self.notLookedUp
    /// Writes handed to the channel that have not completed.
    private var inChannel: Int32 = 0
    /// Set once the channel has written what it held when the stream opened (the response head):
    /// until then every write goes through it.
    private var armed = false

    private static let notLookedUp: CInt = -2

    /// Where a write's bytes go.
    enum Route {
        /// All to the socket.
        case written
        /// To the channel. When `counted`, `completed()` must be called once its promise is done.
        case channel(ByteBuffer, counted: Bool)
    }

    /// Writes `bytes` straight to the socket when it may, and says what is left for the channel.
    mutating func write(_ bytes: ByteBuffer, on channel: Channel) -> Route {
        guard armed, inChannel == 0 else { return handOver(bytes) }
        if descriptor == Self.notLookedUp { descriptor = ChannelDescriptor.of(channel) ?? -1 }
        guard descriptor >= 0 else { return .channel(bytes, counted: false) }
        let sent = bytes.withUnsafeReadableBytes { send(descriptor, $0.baseAddress, $0.count, CInt(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        if sent == bytes.readableBytes { return .written }
        // Full socket buffer, or an error the channel will meet too and handle its own way (it closes).
        guard sent > 0 else { return handOver(bytes) }
        var rest = bytes
        rest.moveReaderIndex(forwardBy: sent)
        return handOver(rest)
    }

    private mutating func handOver(_ bytes: ByteBuffer) -> Route {
        inChannel += 1
        return .channel(bytes, counted: true)
    }

    /// A counted write completed (or failed: the channel is closing). Once none is left, writes may go
    /// straight to the socket again.
    mutating func completed() {
        inChannel -= 1
        if inChannel == 0 { armed = true }
    }
}
