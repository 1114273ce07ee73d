import NIOCore

extension ByteBuffer {
    /// Writes a command as RESP: an array of bulk strings, so arguments may hold any bytes.
    mutating func writeRedisCommand(_ arguments: [[UInt8]]) {
        writeInteger(UInt8(ascii: "*"))
        writeString(String(arguments.count))
        writeStaticString("\r\n")
        for argument in arguments {
            writeInteger(UInt8(ascii: "$"))
            writeString(String(argument.count))
            writeStaticString("\r\n")
            writeBytes(argument)
            writeStaticString("\r\n")
        }
    }

    /// Roughly the bytes `writeRedisCommand` needs, to allocate once.
    static func redisCommandSize(_ arguments: [[UInt8]]) -> Int {
        arguments.reduce(16) { $0 + $1.count + 16 }
    }
}
