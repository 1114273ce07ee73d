#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The file descriptor of a NIO socket channel, so a stream's bytes can go to the kernel without a trip
/// through the channel pipeline (`DirectWriter`).
///
/// SwiftNIO keeps the descriptor private, so it is read by reflection (`socket.descriptor` of its
/// socket channel), and trusted only if the socket it names has the channel's own peer and local
/// addresses. Should a later SwiftNIO store it differently, nothing is found and the stream writes
/// through its channel as before.
enum ChannelDescriptor {
    static func of(_ channel: Channel) -> CInt? {
        guard let socket = child(named: "socket", of: channel),
            let descriptor = child(named: "descriptor", of: socket) as? CInt, descriptor >= 0,
            let remote = channel.remoteAddress, let local = channel.localAddress,
            address(of: descriptor, getpeername) == remote, address(of: descriptor, getsockname) == local
        else { return nil }
        return descriptor
    }

    /// A stored property of `subject` or of one of its superclasses.
    private static func child(named label: String, of subject: Any) -> Any? {
        var mirror: Mirror? = Mirror(reflecting: subject)
        while let current = mirror {
            if let match = current.children.first(where: { $0.label == label }) { return match.value }
            mirror = current.superclassMirror
        }
        return nil
    }

    private static func address(
        of descriptor: CInt, _ name: (CInt, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt
    ) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { name(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee) } }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee) } }
        default:
            return nil
        }
    }
}
