import CRabbitMQ

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Small conversions between rabbitmq-c's C types and Swift values.

extension String {
    /// The bytes as (lossily decoded) UTF-8; AMQP short strings are UTF-8 by convention.
    init(_ bytes: amqp_bytes_t) {
        guard let pointer = bytes.bytes, bytes.len > 0 else {
            self = ""
            return
        }
        self = String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes.len), as: UTF8.self)
    }

    /// rabbitmq-c's description of one of its status codes (`amqp_status_enum`).
    init(amqpStatus status: Int32) {
        self = String(cString: amqp_error_string2(status))
    }
}

extension Array where Element == UInt8 {
    init(_ bytes: amqp_bytes_t) {
        guard let pointer = bytes.bytes, bytes.len > 0 else {
            self = []
            return
        }
        self = Array(UnsafeRawBufferPointer(start: pointer, count: bytes.len))
    }
}

/// rabbitmq-c's timeouts are C `struct timeval`s; this name spares other files the platform import.
typealias CTimeval = timeval

extension CTimeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else {
            self.init(tv_sec: 0, tv_usec: 0)
            return
        }
        self.init(tv_sec: .init(seconds), tv_usec: .init(attoseconds / 1_000_000_000_000))
    }
}

extension amqp_rpc_reply_t {
    var isNormal: Bool { reply_type == AMQP_RESPONSE_NORMAL }

    func isLibraryError(_ status: amqp_status_enum) -> Bool {
        reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && library_error == status.rawValue
    }
}
