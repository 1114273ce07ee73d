import CHiredis
import NIOCore

/// hiredis' RESP parser, fed with whatever bytes the socket gave: it keeps partial replies between
/// reads and hands out each reply once complete. The socket itself is SwiftNIO's (`RedisConnection`),
/// so hiredis is the codec here and never does I/O. Not thread-safe: one connection's loop uses it.
final class HiredisReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        // Fails only when out of memory, where nothing else would work either.
        reader = redisReaderCreate()!
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Hands hiredis the bytes read; they are copied into its buffer.
    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        let fed = buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard fed == REDIS_OK else { throw .protocolError(errorMessage) }
    }

    /// The next complete reply, or nil until more bytes arrive. Bytes that are not RESP throw, and the
    /// reader cannot be used again: its connection is closed.
    func next() throws(RedisError) -> RedisValue? {
        var reply: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &reply) == REDIS_OK else { throw .protocolError(errorMessage) }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        return RedisValue(reply: reply.assumingMemoryBound(to: redisReply.self))
    }

    private var errorMessage: String {
        withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
