import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking hiredis connection. hiredis is not thread-safe, so an instance is created, used
/// and freed on one `RedisConnection`'s thread only. After any failure (`hasFailed`) hiredis
/// cannot use the context again: the owner drops it and connects anew.
final class HiredisContext {
    private let context: UnsafeMutablePointer<redisContext>

    /// Opens a TCP connection. Failing to connect throws `.notConnected` with hiredis' reason.
    init(host: String, port: Int, connectTimeout: Duration, commandTimeout: Duration) throws(RedisError) {
        let endpoint = "\(host):\(port)"
        let connected =
            connectTimeout > .zero
            ? redisConnectWithTimeout(host, Int32(clamping: port), connectTimeout.asTimeval)
            : redisConnect(host, Int32(clamping: port))
        guard let connected else {
            throw .notConnected("cannot connect to \(endpoint): hiredis could not allocate a context")
        }
        context = connected
        guard context.pointee.err == 0 else {
            throw .notConnected("cannot connect to \(endpoint): \(errorMessage)")
        }
        // The read/write timeout makes a silent server a `.timeout` instead of a hung thread.
        if commandTimeout > .zero {
            do {
                try setTimeout(commandTimeout)
            } catch {
                throw .notConnected("\(endpoint): \(error)")
            }
        }
        // Keepalive notices a peer that vanished without closing the socket.
        _ = redisEnableKeepAlive(context)
    }

    deinit {
        redisFree(context)
    }

    /// Sets the socket's read and write timeout (what makes a silent server a `.timeout`).
    func setTimeout(_ timeout: Duration) throws(RedisError) {
        guard redisSetTimeout(context, timeout.asTimeval) == REDIS_OK else {
            throw .notConnected("cannot set the command timeout: \(errorMessage)")
        }
    }

    /// True once hiredis has recorded an I/O, EOF or protocol error; the context is then unusable.
    var hasFailed: Bool { context.pointee.err != 0 }

    /// Sends one command and waits for its reply. An error reply is returned as `.error`, not thrown.
    func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisValue {
        // errno is read right after the call, before Swift frees the argv buffers.
        let (reply, callErrno) = Self.withArgv(arguments) { argc, argv, lengths in
            (redisCommandArgv(context, argc, argv, lengths), errno)
        }
        guard let reply else { throw failure(errno: callErrno) }
        defer { freeReplyObject(reply) }
        return RedisValue(reply: reply.assumingMemoryBound(to: redisReply.self))
    }

    /// Writes all commands, then reads all replies: one round trip for the lot.
    func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisValue] {
        for arguments in commands {
            let (appended, callErrno) = Self.withArgv(arguments) { argc, argv, lengths in
                (redisAppendCommandArgv(context, argc, argv, lengths), errno)
            }
            guard appended == REDIS_OK else { throw failure(errno: callErrno) }
        }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == REDIS_OK, let reply else { throw failure(errno: errno) }
            replies.append(RedisValue(reply: reply.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(reply)
        }
        return replies
    }

    /// hiredis' own description of its last error.
    private var errorMessage: String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let text = raw.prefix { $0 != 0 }
            return String(decoding: text, as: UTF8.self)
        }
    }

    /// Classifies the error hiredis just recorded. A socket timeout shows up as an I/O error with
    /// EAGAIN, because the socket has SO_RCVTIMEO/SO_SNDTIMEO set.
    private func failure(errno savedErrno: Int32) -> RedisError {
        switch context.pointee.err {
        case REDIS_ERR_IO where savedErrno == EAGAIN || savedErrno == EWOULDBLOCK:
            return .timeout
        case REDIS_ERR_PROTOCOL:
            return .protocolError(errorMessage)
        case 0:
            // hiredis returned failure without recording why; only allocation failures do that.
            return .protocolError("hiredis failed without an error (out of memory?)")
        default:
            return .connectionLost(errorMessage)
        }
    }

    /// Calls `body` with hiredis-style argv: pointers into one contiguous copy of the arguments and
    /// explicit lengths, so arguments may contain NUL bytes.
    private static func withArgv<Result>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
    ) -> Result {
        var storage: [UInt8] = []
        storage.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        var offsets: [Int] = []
        var lengths: [Int] = []
        for argument in arguments {
            offsets.append(storage.count)
            lengths.append(argument.count)
            storage += argument
        }
        // A trailing byte keeps the buffer non-empty, so every argument gets a valid pointer.
        storage.append(0)
        return storage.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { characters in
                var pointers: [UnsafePointer<CChar>?] = offsets.map { characters.baseAddress! + $0 }
                return pointers.withUnsafeMutableBufferPointer { argv in
                    lengths.withUnsafeBufferPointer { lengths in
                        body(Int32(argv.count), argv.baseAddress!, lengths.baseAddress!)
                    }
                }
            }
        }
    }
}
